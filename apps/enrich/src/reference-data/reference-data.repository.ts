/**
 * Reads and writes of the reference tables for the REST API and the bulk import (the enrichment hot path
 * reads through PostgresReferenceData). Writers never notify by hand: the `0002_reference_data` triggers
 * notify `streamguard_reference` on every write, whoever makes it.
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
  columns: ColumnSpec[];
}

const TABLES: Record<ReferenceKind, TableSpec> = {
  accounts: {
    table: 'accounts',
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

export class ReferenceDataRepository {
  constructor(private readonly db: Queryable) {}

  /** `key`: the key field values in REFERENCE_FIELDS order (blocklist: kind, value). */
  async get<K extends ReferenceKind>(kind: K, key: string[]): Promise<StoredRecord<K> | undefined> {
    const where = keyColumns(kind).map((c, i) => `${c.column} = $${i + 1}`).join(' AND ');
    const { rows } = await this.db.query(`SELECT ${selectList(kind)} FROM ${TABLES[kind].table} WHERE ${where}`, key);
    return rows.length > 0 ? toStored<K>(rows[0]) : undefined;
  }

  /** Ordered by key; `after` (key values) continues after that row, for paging. */
  async list<K extends ReferenceKind>(kind: K, limit: number, after?: string[], filter?: { kind?: string }): Promise<Array<StoredRecord<K>>> {
    const keys = keyColumns(kind).map((c) => c.column);
    const conditions: string[] = [];
    const params: unknown[] = [];
    if (after) {
      params.push(...after);
      conditions.push(`(${keys.join(', ')}) > (${after.map((_, i) => `$${i + 1}`).join(', ')})`);
    }
    if (filter?.kind !== undefined) {
      params.push(filter.kind);
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

  async delete(kind: ReferenceKind, key: string[]): Promise<boolean> {
    const where = keyColumns(kind).map((c, i) => `${c.column} = $${i + 1}`).join(' AND ');
    const { rowCount } = await this.db.query(`DELETE FROM ${TABLES[kind].table} WHERE ${where}`, key);
    return rowCount > 0;
  }

  /**
   * Inserts or replaces `records` with one statement (`unnest` of one array per column). Rows equal to the
   * stored ones are left alone. The records must have distinct keys (Postgres refuses to update a row twice
   * in one statement). Pass a transaction as `db` to make several calls all-or-nothing.
   */
  async upsert<K extends ReferenceKind>(kind: K, records: ReadonlyArray<ReferenceRecords[K]>, db: Queryable = this.db): Promise<UpsertSummary> {
    if (records.length === 0) return { inserted: 0, updated: 0, unchanged: 0 };
    const { table, columns } = TABLES[kind];
    const keys = keyColumns(kind).map((c) => c.column);
    const values = columns.filter((c) => !keys.includes(c.column)).map((c) => c.column);
    const { rows } = await db.query<{ inserted: boolean }>(
      `INSERT INTO ${table} (${columns.map((c) => c.column).join(', ')})
       SELECT * FROM unnest(${columns.map((c, i) => `$${i + 1}::${c.sqlType}[]`).join(', ')})
       ON CONFLICT (${keys.join(', ')}) DO UPDATE SET ${[...values.map((v) => `${v} = EXCLUDED.${v}`), 'updated_at = now()'].join(', ')}
       WHERE (${values.map((v) => `${table}.${v}`).join(', ')}) IS DISTINCT FROM (${values.map((v) => `EXCLUDED.${v}`).join(', ')})
       RETURNING (xmax = 0) AS inserted`,
      columns.map((c) => records.map((r) => (r as unknown as Record<string, unknown>)[c.field] ?? null)),
    );
    const inserted = rows.filter((r) => r.inserted).length;
    return { inserted, updated: rows.length - inserted, unchanged: records.length - rows.length };
  }
}
