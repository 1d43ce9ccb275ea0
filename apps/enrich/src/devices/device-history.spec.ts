import { deviceKey, firstSightingsInBatch, isNewDevice } from './device-history';

const e = (eventId: string, accountId: string, deviceId?: string, occurredAt = 1, tenantId = 'acme') => ({ eventId, tenantId, accountId, deviceId, occurredAt });

describe('firstSightingsInBatch', () => {
  it('keeps the first event (batch order) of each account and device pair and skips events without a device', () => {
    expect(firstSightingsInBatch([
      e('e1', 'a1', 'd1', 30), e('e2', 'a1', 'd1', 10), e('e3', 'a2', 'd1'), e('e4', 'a1'), e('e5', 'a1', ''), e('e6', 'a1', 'd2'),
    ])).toEqual([
      { tenantId: 'acme', accountId: 'a1', deviceId: 'd1', eventId: 'e1', occurredAt: 30 },
      { tenantId: 'acme', accountId: 'a2', deviceId: 'd1', eventId: 'e3', occurredAt: 1 },
      { tenantId: 'acme', accountId: 'a1', deviceId: 'd2', eventId: 'e6', occurredAt: 1 },
    ]);
  });

  it('keeps one first sighting per tenant for the same account and device', () => {
    expect(firstSightingsInBatch([e('e1', 'a1', 'd1', 1, 'acme'), e('e1', 'a1', 'd1', 1, 'globex'), e('e2', 'a1', 'd1', 2, 'globex')])).toEqual([
      { tenantId: 'acme', accountId: 'a1', deviceId: 'd1', eventId: 'e1', occurredAt: 1 },
      { tenantId: 'globex', accountId: 'a1', deviceId: 'd1', eventId: 'e1', occurredAt: 1 },
    ]);
  });

  it('does not confuse ids that would collide when concatenated', () => {
    expect(firstSightingsInBatch([e('e1', 'a', 'bc'), e('e2', 'ab', 'c')])).toHaveLength(2);
    expect(deviceKey('t', 'a', 'bc')).not.toBe(deviceKey('t', 'ab', 'c'));
    expect(deviceKey('t', 'a', 'b')).not.toBe(deviceKey('ta', '', 'b'));
  });
});

describe('isNewDevice', () => {
  const stored = new Map([[deviceKey('acme', 'a1', 'd1'), 'e1']]);
  it.each([
    ['the stored first event', e('e1', 'a1', 'd1'), true],
    ['a later event', e('e2', 'a1', 'd1'), false],
    ['no device', e('e3', 'a1'), null],
    ['no stored sighting', e('e4', 'a1', 'd9'), null],
    ['another tenant\'s sighting of the same account and device', e('e1', 'a1', 'd1', 1, 'globex'), null],
  ])('%s → %p', (_name, event, expected) => {
    expect(isNewDevice(event, stored)).toBe(expected);
  });

  it('answers each tenant from its own history', () => {
    const batch = [e('x', 'a1', 'd1', 1, 'acme'), e('y', 'a1', 'd1', 2, 'globex'), e('z', 'a1', 'd1', 3, 'globex')];
    const firsts = new Map(firstSightingsInBatch(batch).map((s) => [deviceKey(s.tenantId, s.accountId, s.deviceId), s.eventId]));
    // globex's first sighting is its own, although acme saw the same account and device earlier.
    expect(batch.map((event) => isNewDevice(event, firsts))).toEqual([true, true, false]);
  });

  it('gives the same answers when a batch is replayed against what its first run stored', () => {
    const batch = [e('e1', 'a1', 'd1'), e('e2', 'a1', 'd1'), e('e3', 'a1', 'd2')];
    // First run: nothing stored yet, so the stored ids are the batch's own firsts; a replay reads them back.
    const storedByFirstRun = new Map(firstSightingsInBatch(batch).map((s) => [deviceKey(s.tenantId, s.accountId, s.deviceId), s.eventId]));
    const firstRun = batch.map((event) => isNewDevice(event, storedByFirstRun));
    const replay = batch.map((event) => isNewDevice(event, new Map(storedByFirstRun)));
    expect(firstRun).toEqual([true, false, true]);
    expect(replay).toEqual(firstRun);
  });
});
