/**
 * "Is this the first time this device is seen for this account?", answered deterministically under replay.
 *
 * History is per tenant: account ids (and device ids) are only unique within a tenant, so one tenant's traffic
 * never decides another's `newDevice`. The first event id per (tenant, account, device) is stored once and never changed (`INSERT … ON CONFLICT DO
 * NOTHING`); an event's device is new exactly when the stored first event id is its own. A batch that is
 * processed again after a crash (Kafka transactions make that normal) finds the ids its first run stored and
 * derives the same answers. Within a batch, the earliest event (by offset) of a new pair is the first.
 */
export interface DeviceSighting {
  tenantId: string;
  accountId: string;
  deviceId: string;
  eventId: string;
  /** Event time, epoch ms (stored for operators; not part of the decision). */
  occurredAt: number;
}

/** Port: records first sightings and returns the stored first event id of every pair asked about. */
export interface DeviceHistory {
  /** One round trip per batch; returns firstEventId by `deviceKey(tenantId, accountId, deviceId)`. */
  recordFirstSightings(sightings: DeviceSighting[]): Promise<Map<string, string>>;
}

export function deviceKey(tenantId: string, accountId: string, deviceId: string): string {
  return `${tenantId}\u0000${accountId}\u0000${deviceId}`;
}

type DeviceEvent = { eventId: string; tenantId: string; accountId: string; deviceId?: string };

/** The first sighting of each (tenant, account, device) in batch order; events without a device are skipped. */
export function firstSightingsInBatch(events: ReadonlyArray<DeviceEvent & { occurredAt: number }>): DeviceSighting[] {
  const seen = new Set<string>();
  const firsts: DeviceSighting[] = [];
  for (const e of events) {
    if (!e.deviceId) continue;
    const key = deviceKey(e.tenantId, e.accountId, e.deviceId);
    if (seen.has(key)) continue;
    seen.add(key);
    firsts.push({ tenantId: e.tenantId, accountId: e.accountId, deviceId: e.deviceId, eventId: e.eventId, occurredAt: e.occurredAt });
  }
  return firsts;
}

/** newDevice of one event: null without a device or without a stored first sighting. */
export function isNewDevice(event: DeviceEvent, firstEventIds: ReadonlyMap<string, string>): boolean | null {
  if (!event.deviceId) return null;
  const first = firstEventIds.get(deviceKey(event.tenantId, event.accountId, event.deviceId));
  return first === undefined ? null : first === event.eventId;
}
