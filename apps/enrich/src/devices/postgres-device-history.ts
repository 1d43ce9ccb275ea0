import type { Queryable } from '@streamguard/common';
import { DeviceHistory, deviceKey, DeviceSighting } from './device-history';

/** `account_devices` table, keyed by (tenant, account, device): one insert and one read per batch, whatever the batch size. */
export class PostgresDeviceHistory implements DeviceHistory {
  constructor(private readonly db: Queryable) {}

  async recordFirstSightings(sightings: DeviceSighting[]): Promise<Map<string, string>> {
    const firstEventIds = new Map<string, string>();
    if (sightings.length === 0) return firstEventIds;
    const tenants = sightings.map((s) => s.tenantId);
    const accounts = sightings.map((s) => s.accountId);
    const devices = sightings.map((s) => s.deviceId);
    await this.db.query(
      `INSERT INTO account_devices (tenant_id, account_id, device_id, first_event_id, first_seen_at)
       SELECT tn, a, d, e, to_timestamp(t / 1000.0) FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[]) AS s(tn, a, d, e, t)
       ON CONFLICT DO NOTHING`,
      [tenants, accounts, devices, sightings.map((s) => s.eventId), sightings.map((s) => s.occurredAt)],
    );
    // A separate statement, so it also sees rows another transaction committed while the insert waited.
    const { rows } = await this.db.query<{ tenant_id: string; account_id: string; device_id: string; first_event_id: string }>(
      `SELECT d.tenant_id, d.account_id, d.device_id, d.first_event_id FROM account_devices d
       JOIN unnest($1::text[], $2::text[], $3::text[]) AS q(tenant_id, account_id, device_id)
         ON d.tenant_id = q.tenant_id AND d.account_id = q.account_id AND d.device_id = q.device_id`,
      [tenants, accounts, devices],
    );
    for (const r of rows) firstEventIds.set(deviceKey(r.tenant_id, r.account_id, r.device_id), r.first_event_id);
    return firstEventIds;
  }
}
