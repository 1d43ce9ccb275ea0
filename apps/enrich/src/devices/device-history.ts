/**
 * "Is this the first time this device is seen for this account?", answered deterministically under replay.
 *
 * The first event id per (account, device) is stored once and never changed (`INSERT … ON CONFLICT DO
 * NOTHING`); an event's device is new exactly when the stored first event id is its own. A batch that is
 * processed again after a crash (Kafka transactions make that normal) finds the ids its first run stored and
 * derives the same answers. Within a batch, the earliest event (by offset) of a new pair is the first.
 */
export interface DeviceSighting {
  accountId: string;
  deviceId: string;
  eventId: string;
  /** Event time, epoch ms (stored for operators; not part of the decision). */
  occurredAt: number;
}

/** Port: records first sightings and returns the stored first event id of every pair asked about. */
export interface DeviceHistory {
  /** One round trip per batch; returns firstEventId by `deviceKey(accountId, deviceId)`. */
  recordFirstSightings(sightings: DeviceSighting[]): Promise<Map<string, string>>;
}

export function deviceKey(accountId: string, deviceId: string): string {
  return `${accountId}\u0000${deviceId}`;
}

/** The first sighting of each (account, device) pair in batch order; events without a device are skipped. */
export function firstSightingsInBatch(events: ReadonlyArray<{ eventId: string; accountId: string; deviceId?: string; occurredAt: number }>): DeviceSighting[] {
  const seen = new Set<string>();
  const firsts: DeviceSighting[] = [];
  for (const e of events) {
    if (!e.deviceId) continue;
    const key = deviceKey(e.accountId, e.deviceId);
    if (seen.has(key)) continue;
    seen.add(key);
    firsts.push({ accountId: e.accountId, deviceId: e.deviceId, eventId: e.eventId, occurredAt: e.occurredAt });
  }
  return firsts;
}

/** newDevice of one event: null without a device or without a stored first sighting. */
export function isNewDevice(event: { eventId: string; accountId: string; deviceId?: string }, firstEventIds: ReadonlyMap<string, string>): boolean | null {
  if (!event.deviceId) return null;
  const first = firstEventIds.get(deviceKey(event.accountId, event.deviceId));
  return first === undefined ? null : first === event.eventId;
}
