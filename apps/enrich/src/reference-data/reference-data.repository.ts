/**
 * Reads and writes of the reference tables for the REST API and the bulk import (the enrichment hot path
 * reads through PostgresReferenceData). Writers never notify by hand: the `0002_reference_data` triggers
 * notify `streamguard_reference` on every write, whoever makes it.
 *
 * Accounts belong to a tenant (primary key `(tenant_id, account_id)`): every accounts call names the tenant
 * and reads or writes that tenant's rows only. Merchants, FX rates and the blocklist are platform data shared
 * by all tenants: their calls name no tenant. Anything else is a programming error and throws (fail closed:
 * an accounts query without a tenant is never run).
 */
import type { Queryable } from '@streamguard/common';
import { REFERENCE_FIELDS, ReferenceKind, ReferenceRecords } from './reference-validation';

interface ColumnSpec {
  field: string;
  column: string;
  /** Element type of the `unnest` array parameter. */
  sqlType: 'text' | 'float8' | 'date';
}

interface TableSpec {
  table: string;
  /** Set for per-tenant tables: the column holding the tenant id, first part of the primary key. */
  tenantColumn?: string;
  columns: ColumnSpec[];
}

const TABLES: Record<ReferenceKind, TableSpec> = {
  accounts: {
    table: 'accounts',
    tenantColumn: 'tenant_id',
    columns: [
      { field: 'accountId', column: 'account_id', sqlType: 'text' },
      { field: 'homeCountry', column: 'home_country', sqlType: 'text' },
      { field: 'riskTier', column: 'risk_tier', sqlType: 'text' },
      { field: 'openedAt', column: 'opened_at', sqlType: 'date' },
    ],
  },
  merchants: {
    table: 'merchants',
    columns: [
      { field: 'merchantId', column: 'merchant_id', sqlType: 'text' },
      { field: 'name', column: 'name', sqlType: 'text' },
      { field: 'mcc', column: 'mcc', sqlType: 'text' },
      { field: 'category', column: 'category', sqlType: 'text' },
      { field: 'country', column: 'country', sqlType: 'text' },
      { field: 'riskScore', column: 'risk_score', sqlType: 'float8' },
    ],
  },
  'fx-rates': {
    table: 'fx_rates',
    columns: [
      { field: 'currency', column: 'currency', sqlType: 'text' },
      { field: 'usdRate', column: 'usd_rate', sqlType: 'float8' },
    ],
  },
  blocklist: {
    table: 'blocklist',
    columns: [
      { field: 'kind', column: 'kind', sqlType: 'text' },
      { field: 'value', column: 'value', sqlType: 'text' },
      { field: 'reason', column: 'reason', sqlType: 'text' },
    ],
  },
};

export type StoredRecord<K extends ReferenceKind> = ReferenceRecords[K] & { updatedAt: string };

export interface UpsertSummary {
  inserted: number;
  updated: number;
  /** Rows identical to what was stored: not rewritten, so they notify nobody. */
  unchanged: number;
}

function keyColumns(kind: ReferenceKind): ColumnSpec[] {
  const key = REFERENCE_FIELDS[kind].key as readonly string[];
  return TABLES[kind].columns.filter((c) => key.includes(c.field));
}

function selectList(kind: ReferenceKind): string {
  const columns = TABLES[kind].columns.map((c) => {
    // char(n) columns come back padded in some drivers and dates as Date objects: normalise to text.
    const expression = c.sqlType === 'date' ? `to_char(${c.column}, 'YYYY-MM-DD')` : c.sqlType === 'text' ? `${c.column}::text` : c.column;
    return `${expression} AS "${c.field}"`;
  });
  return [...columns, `updated_at AS "updatedAt"`].join(', ');
}

function toStored<K extends ReferenceKind>(row: Record<string, unknown>): StoredRecord<K> {
  return { ...row, updatedAt: (row.updatedAt as Date).toISOString() } as StoredRecord<K>;
}

/** A condition on the tenant column, or none for platform data; throws when `tenantId` does not fit `kind`. */
function tenantCondition(kind: ReferenceKind, tenantId: string | undefined): { column: string; tenantId: string } | undefined {
  const column = TABLES[kind].tenantColumn;
  if (column === undefined) {
    if (tenantId !== undefined) throw new Error(`${kind} are platform data shared by all tenants: no tenant applies`);
    return undefined;
  }
  if (tenantId === undefined) throw new Error(`${kind} belong to a tenant: name it`);
  return { column, tenantId };
}

/** `WHERE` of one row: the tenant (if any) is `$1`, then the key values in REFERENCE_FIELDS order. */
function rowFilter(kind: ReferenceKind, key: string[], tenantId: string | undefined): { where: string; params: string[] } {
  const tenant = tenantCondition(kind, tenantId);
  const params = tenant ? [tenant.tenantId, ...key] : [...key];
  const conditions = [...(tenant ? [tenant.column] : []), ...keyColumns(kind).map((c) => c.column)].map((column, i) => `${column} = $${i + 1}`);
  return { where: conditions.join(' AND '), params };
}

export interface ListOptions {
  /** Key values of the last row of the previous page: the list continues after it. */
  after?: string[];
  /** Blocklist only: entries of this kind. */
  kind?: string;
  /** Accounts only (and required for them): the tenant whose accounts to list. */
  tenantId?: string;
}

export interface UpsertOptions {
  /** Accounts only (and required for them): the tenant the records belong to. */
  tenantId?: string;
  /** A transaction, to make several calls all-or-nothing. */
  db?: Queryable;
}

export class ReferenceDataRepository {
  constructor(private readonly db: Queryable) {}

  /** `key`: the key field values in REFERENCE_FIELDS order (blocklist: kind, value). `tenantId`: accounts only. */
  async get<K extends ReferenceKind>(kind: K, key: string[], tenantId?: string): Promise<StoredRecord<K> | undefined> {
    const { where, params } = rowFilter(kind, key, tenantId);
    const { rows } = await this.db.query(`SELECT ${selectList(kind)} FROM ${TABLES[kind].table} WHERE ${where}`, params);
    return rows.length > 0 ? toStored<K>(rows[0]) : undefined;
  }

  /** Ordered by key; `after` (key values) continues after that row, for paging. */
  async list<K extends ReferenceKind>(kind: K, limit: number, options: ListOptions = {}): Promise<Array<StoredRecord<K>>> {
    const keys = keyColumns(kind).map((c) => c.column);
    const conditions: string[] = [];
    const params: unknown[] = [];
    const tenant = tenantCondition(kind, options.tenantId);
    if (tenant) {
      params.push(tenant.tenantId);
      conditions.push(`${tenant.column} = $${params.length}`);
    }
    if (options.after) {
      const first = params.length + 1;
      params.push(...options.after);
      conditions.push(`(${keys.join(', ')}) > (${options.after.map((_, i) => `$${first + i}`).join(', ')})`);
    }
    if (options.kind !== undefined) {
      params.push(options.kind);
      conditions.push(`kind = $${params.length}`);
    }
    params.push(limit);
    const { rows } = await this.db.query(
      `SELECT ${selectList(kind)} FROM ${TABLES[kind].table} ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''}
       ORDER BY ${keys.join(', ')} LIMIT $${params.length}`,
      params,
    );
    return rows.map((row) => toStored<K>(row));
  }

  /** `tenantId`: accounts only. */
  async delete(kind: ReferenceKind, key: string[], tenantId?: string): Promise<boolean> {
    const { where, params } = rowFilter(kind, key, tenantId);
    const { rowCount } = await this.db.query(`DELETE FROM ${TABLES[kind].table} WHERE ${where}`, params);
    return rowCount > 0;
  }

  /**
   * Inserts or replaces `records` with one statement (`unnest` of one array per column). Rows equal to the
   * stored ones are left alone. The records must have distinct keys (Postgres refuses to update a row twice
   * in one statement). Accounts are written to `options.tenantId`. Pass a transaction as `options.db` to make
   * several calls all-or-nothing.
   */
  async upsert<K extends ReferenceKind>(kind: K, records: ReadonlyArray<ReferenceRecords[K]>, options: UpsertOptions = {}): Promise<UpsertSummary> {
    const tenant = tenantCondition(kind, options.tenantId);
    if (records.length === 0) return { inserted: 0, updated: 0, unchanged: 0 };
    const db = options.db ?? this.db;
    const { table, columns } = TABLES[kind];
    const keys = keyColumns(kind).map((c) => c.column);
    const values = columns.filter((c) => !keys.includes(c.column)).map((c) => c.column);
    const params: unknown[] = columns.map((c) => records.map((r) => (r as unknown as Record<string, unknown>)[c.field] ?? null));
    const arrays = columns.map((c, i) => `$${i + 1}::${c.sqlType}[]`).join(', ');
    // Per-tenant tables: the tenant is one more parameter, the same for every row, and part of the conflict key.
    if (tenant) params.push(tenant.tenantId);
    const { rows } = await db.query<{ inserted: boolean }>(
      `INSERT INTO ${table} (${[...(tenant ? [tenant.column] : []), ...columns.map((c) => c.column)].join(', ')})
       SELECT ${tenant ? `$${params.length}::text, ` : ''}u.* FROM unnest(${arrays}) AS u
       ON CONFLICT (${[...(tenant ? [tenant.column] : []), ...keys].join(', ')}) DO UPDATE SET ${[...values.map((v) => `${v} = EXCLUDED.${v}`), 'updated_at = now()'].join(', ')}
       WHERE (${values.map((v) => `${table}.${v}`).join(', ')}) IS DISTINCT FROM (${values.map((v) => `EXCLUDED.${v}`).join(', ')})
       RETURNING (xmax = 0) AS inserted`,
      params,
    );
    const inserted = rows.filter((r) => r.inserted).length;
    return { inserted, updated: rows.length - inserted, unchanged: records.length - rows.length };
  }
}
