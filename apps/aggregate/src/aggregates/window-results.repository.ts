import { AggregateResultMessage, Queryable, SqlFilters } from '@streamguard/common';

export interface AggregateQuery {
  /** Always set: results are only ever read by their own tenant. */
  tenantId: string;
  definition?: string;
  groupKey?: string;
  accountId?: string;
  from?: number;
  to?: number;
  limit: number;
}

interface Row {
  tenant_id: string; definition: string; group_key: string; window_type: string; window_start: Date; window_end: Date;
  group_fields: Record<string, unknown>; agg_values: Record<string, number | string | null>; event_count: string;
  version: number; is_final: boolean; emitted_at: Date;
}

/**
 * `window_results`: one row per window, upserted idempotently (a lower or equal version never overwrites).
 * The group key starts with the tenant, so the primary key never mixes tenants; `tenant_id` is what queries filter on.
 */
export class WindowResultsRepository {
  async upsert(tx: Queryable, all: AggregateResultMessage[]): Promise<void> {
    // Update mode can emit several versions of one window per batch; Postgres needs one row per key.
    const latest = new Map<string, AggregateResultMessage>();
    for (const r of all) {
      const key = `${r.definition}\u0000${r.groupKey}\u0000${r.windowStart}\u0000${r.windowEnd}`;
      const seen = latest.get(key);
      if (!seen || seen.version < r.version) latest.set(key, r);
    }
    const results = [...latest.values()];
    if (results.length === 0) return;
    // One JSON document (the messages themselves) rather than twelve arrays: serialised once, natively, with no
    // array-literal escaping of every group and value document.
    await tx.query(
      `INSERT INTO window_results (definition, group_key, window_start, window_end, window_type, group_fields, agg_values, event_count, version, is_final, emitted_at, tenant_id)
       SELECT r.definition, r."groupKey", to_timestamp(r."windowStart" / 1000.0), to_timestamp(r."windowEnd" / 1000.0), r."windowType", r."group", r."values",
              r."count", r."version", r."final", to_timestamp(r."emittedAt" / 1000.0), r."tenantId"
       FROM jsonb_to_recordset($1::jsonb) AS r(definition text, "groupKey" text, "windowStart" float8, "windowEnd" float8, "windowType" text,
         "group" jsonb, "values" jsonb, "count" bigint, "version" int, "final" bool, "emittedAt" float8, "tenantId" text)
       ON CONFLICT (definition, group_key, window_start, window_end) DO UPDATE SET
         agg_values = excluded.agg_values, event_count = excluded.event_count, version = excluded.version,
         is_final = excluded.is_final, emitted_at = excluded.emitted_at
       WHERE window_results.version < excluded.version`,
      [JSON.stringify(results)],
    );
  }

  /** Newest windows first, of one tenant. */
  async find(db: Queryable, query: AggregateQuery): Promise<AggregateResultMessage[]> {
    // Never optional: SqlFilters drops a condition whose value is undefined, which here would mean every tenant.
    if (typeof query.tenantId !== 'string' || query.tenantId === '') throw new Error('window results are only read for one tenant');
    const filters = new SqlFilters()
      .add('tenant_id = ?', query.tenantId)
      .add('definition = ?', query.definition || undefined)
      .add('group_key = ?', query.groupKey || undefined)
      .add(`group_fields->>'accountId' = ?`, query.accountId || undefined)
      .add('window_end > to_timestamp(? / 1000.0)', query.from)
      .add('window_start < to_timestamp(? / 1000.0)', query.to);
    const { rows } = await db.query<Row>(
      `SELECT * FROM window_results ${filters.where()} ORDER BY window_start DESC, definition, group_key LIMIT ${filters.param(query.limit)}`,
      filters.params,
    );
    return rows.map((r) => ({
      schemaVersion: 1, tenantId: r.tenant_id, definition: r.definition, groupKey: r.group_key, group: r.group_fields, windowType: r.window_type,
      windowStart: r.window_start.getTime(), windowEnd: r.window_end.getTime(), values: r.agg_values, count: Number(r.event_count),
      version: r.version, final: r.is_final, emittedAt: r.emitted_at.getTime(),
    }));
  }
}
