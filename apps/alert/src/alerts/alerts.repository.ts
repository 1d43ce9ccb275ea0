import { AlertMessage, Queryable, SqlFilters } from '@streamguard/common';

export interface AlertQuery {
  /** Always set: alerts are only ever read by their own tenant. */
  tenantId: string;
  accountId?: string;
  ruleId?: string;
  from?: number;
  to?: number;
  limit: number;
}

interface Row {
  tenant_id: string; alert_id: string; rule_id: string; rule_version: number; rule_type: string; severity: string; account_id: string;
  group_key: string; event_ids: string[]; occurred_at: Date; detected_at: Date; explanation: AlertMessage['explanation'];
}

/**
 * `alerts`: insert-once by the deterministic `alert_id` (which covers the tenant through the group key), one
 * tenant per row in `tenant_id`.
 */
export class AlertsRepository {
  /** Inserts the alerts that do not exist yet and returns those (the only ones to publish). */
  async insertNew(tx: Queryable, alerts: AlertMessage[]): Promise<Set<string>> {
    if (alerts.length === 0) return new Set();
    const { rows } = await tx.query<{ alert_id: string }>(
      `INSERT INTO alerts (alert_id, rule_id, rule_version, rule_type, severity, account_id, group_key, event_ids, occurred_at, detected_at, explanation, tenant_id)
       SELECT a.id, a.rule, a.ver, a.type, a.sev, a.acc, a.gk, ARRAY(SELECT jsonb_array_elements_text(a.ev)), to_timestamp(a.occ / 1000.0), to_timestamp(a.det / 1000.0), a.expl, a.tn
       FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::jsonb[], $9::float8[], $10::float8[], $11::jsonb[], $12::text[])
         AS a(id, rule, ver, type, sev, acc, gk, ev, occ, det, expl, tn)
       ON CONFLICT (alert_id) DO NOTHING
       RETURNING alert_id`,
      [
        alerts.map((a) => a.alertId), alerts.map((a) => a.ruleId), alerts.map((a) => a.ruleVersion), alerts.map((a) => a.ruleType),
        alerts.map((a) => a.severity), alerts.map((a) => a.accountId), alerts.map((a) => a.groupKey), alerts.map((a) => JSON.stringify(a.eventIds)),
        alerts.map((a) => a.occurredAt), alerts.map((a) => a.detectedAt), alerts.map((a) => JSON.stringify(a.explanation)),
        alerts.map((a) => a.tenantId),
      ],
    );
    return new Set(rows.map((r) => r.alert_id));
  }

  /**
   * Newest first (by event time of the triggering event), of one tenant. The tenant condition is not an optional
   * filter: a `tenantId` that is not a non-empty string throws, so a caller bug can never read every tenant's alerts.
   */
  async find(db: Queryable, query: AlertQuery): Promise<AlertMessage[]> {
    const tenantId: unknown = query.tenantId;
    if (typeof tenantId !== 'string' || tenantId === '') throw new TypeError(`alerts are read per tenant: tenantId must be a non-empty string, got ${JSON.stringify(tenantId)}`);
    // Checked above, so never dropped as an unset optional filter: every query reads `WHERE tenant_id = $1 …`.
    const filters = new SqlFilters()
      .add('tenant_id = ?', tenantId)
      .add('account_id = ?', query.accountId || undefined)
      .add('rule_id = ?', query.ruleId || undefined)
      .add('occurred_at >= to_timestamp(? / 1000.0)', query.from)
      .add('occurred_at < to_timestamp(? / 1000.0)', query.to);
    const { rows } = await db.query<Row>(
      `SELECT * FROM alerts ${filters.where()} ORDER BY occurred_at DESC, alert_id LIMIT ${filters.param(query.limit)}`,
      filters.params,
    );
    return rows.map((r) => ({
      schemaVersion: 1, tenantId: r.tenant_id, alertId: r.alert_id, ruleId: r.rule_id, ruleVersion: r.rule_version, ruleType: r.rule_type, severity: r.severity,
      accountId: r.account_id, groupKey: r.group_key, eventIds: r.event_ids, occurredAt: r.occurred_at.getTime(),
      detectedAt: r.detected_at.getTime(), explanation: r.explanation,
    }));
  }
}
