import { changeEventChannel, toStreamedChange } from '../src/subscribe-changes';

const header = (changeType: string, recordIds: string[] = ['003000000000001AAA']) => ({
  payload: {
    ChangeEventHeader: {
      entityName: 'Contact',
      changeType,
      recordIds,
      changedFields: changeType === 'UPDATE' ? ['Email', 'LastModifiedDate'] : [],
      commitTimestamp: Date.parse('2026-12-06T00:00:00Z'),
    },
  },
  event: { replayId: 42 },
});

describe('Salesforce change events → streamed changes', () => {
  it('names the Change Data Capture channel of a standard and a custom object', () => {
    expect(changeEventChannel('Contact')).toBe('/data/ContactChangeEvent');
    expect(changeEventChannel('Invoice__c')).toBe('/data/Invoice__ChangeEvent');
  });

  it.each([
    ['CREATE', 'created', false],
    ['UPDATE', 'updated', false],
    ['DELETE', 'deleted', false],
    ['UNDELETE', 'created', false],
    ['GAP_UPDATE', 'other', true],
    ['GAP_OVERFLOW', 'other', true],
  ])('reads %s as action %s (gap: %s)', (changeType, action, gap) => {
    expect(toStreamedChange('/data/ContactChangeEvent', header(changeType))).toEqual({
      channel: '/data/ContactChangeEvent',
      object: 'Contact',
      recordIds: ['003000000000001AAA'],
      action,
      gap,
      changedFields: changeType === 'UPDATE' ? ['Email', 'LastModifiedDate'] : [],
      occurredAt: '2026-12-06T00:00:00.000Z',
      position: '42',
    });
  });

  it('ignores a message that is not a change event', () => {
    expect(toStreamedChange('/data/ContactChangeEvent', { payload: {} })).toBeUndefined();
    expect(toStreamedChange('/data/ContactChangeEvent', { ...header('CREATE'), event: {} })).toBeUndefined();
  });
});
