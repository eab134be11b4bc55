import { Client } from 'pg';
import { escapeSqlText } from './postgresql-driver';

describe('escapeSqlText', () => {
  it("writes every string as pg's escapeLiteral does", () => {
    const samples = [
      '',
      'plain',
      "O'Neil",
      "''",
      'back\\slash',
      "both ' and \\ twice ' \\",
      '{"note":"line\\nbreak","name":"D\'Arcy"}',
      'ünïcødé ✓ 😀',
      '\\',
      "'",
    ];
    for (const text of samples) expect(escapeSqlText(text)).toBe(Client.prototype.escapeLiteral(text));
  });
});
