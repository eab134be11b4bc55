import { ConflictResolver, conflictLogLine, type FieldConflict } from './conflict-resolver';

const conflict = (localModifiedAt: string, crmModifiedAt: string): FieldConflict => ({
  field: 'company',
  localValue: 'Local Co',
  crmValue: 'CRM Co',
  localModifiedAt,
  crmModifiedAt,
});

describe('ConflictResolver', () => {
  it('crm_wins and penguinmails_wins pick their side whatever the times', () => {
    const input = conflict('2026-05-01T10:00:00Z', '2020-01-01T00:00:00Z');
    expect(new ConflictResolver('crm_wins').resolve(input)).toMatchObject({ winner: 'crm', value: 'CRM Co' });
    expect(new ConflictResolver('penguinmails_wins').resolve(input)).toMatchObject({
      winner: 'penguinmails',
      value: 'Local Co',
    });
  });

  it('most_recent compares each side’s time as UTC instants, not as text', () => {
    const resolver = new ConflictResolver('most_recent');
    // 10:30 at +02:00 is 08:30 UTC: earlier than the CRM's 09:00 UTC, although "10:30" sorts after "09:00".
    expect(resolver.resolve(conflict('2026-05-01T10:30:00+02:00', '2026-05-01T09:00:00Z')).winner).toBe(
      'crm',
    );
    expect(resolver.resolve(conflict('2026-05-01T09:00:00.001Z', '2026-05-01T09:00:00Z')).winner).toBe(
      'penguinmails',
    );
  });

  it('most_recent breaks an exact tie the same way every time (the CRM)', () => {
    const resolver = new ConflictResolver('most_recent');
    const tie = conflict('2026-05-01T11:00:00+02:00', '2026-05-01T09:00:00.000Z');
    expect(resolver.resolve(tie)).toMatchObject({ winner: 'crm', value: 'CRM Co' });
    expect(resolver.resolve({ ...tie, localValue: 'CRM Co', crmValue: 'Local Co' })).toMatchObject({
      winner: 'crm',
      value: 'Local Co',
    });
  });

  it('writes the seed’s log line with both values', () => {
    const line = conflictLogLine(
      new ConflictResolver('crm_wins').resolve(conflict('2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z')),
    );
    expect(line.message).toBe('Conflict resolved: company field');
    expect(line.details).toMatchObject({
      penguinmailsValue: 'Local Co',
      crmValue: 'CRM Co',
      winner: 'crm',
      rule: 'crm_wins',
    });
  });
});
