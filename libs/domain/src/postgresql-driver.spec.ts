import fc from 'fast-check';
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

  it('agrees with escapeLiteral on any text, quotes and backslashes included', () => {
    const text = fc.string({ unit: fc.constantFrom("'", '\\', 'a', 'é', '😀', '"', '\n', ' ', 'E') });
    fc.assert(
      fc.property(fc.oneof(text, fc.string({ unit: 'binary' })), (value) => {
        expect(escapeSqlText(value)).toBe(Client.prototype.escapeLiteral(value));
      }),
      { numRuns: 2_000 },
    );
  });
});
