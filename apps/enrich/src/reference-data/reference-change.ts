/**
 * Change notifications of the reference tables. The `0002_reference_data` triggers send
 * `<table>:<key>` on channel `streamguard_reference` for every write (`<table>:*` for big statements and
 * TRUNCATE), whoever the writer is; enrich instances drop the matching cache entries.
 */
export const REFERENCE_CHANNEL = 'streamguard_reference';

export const REFERENCE_TABLES = ['accounts', 'merchants', 'fx_rates', 'blocklist'] as const;
export type ReferenceTable = (typeof REFERENCE_TABLES)[number];

export interface ReferenceChange {
  table: ReferenceTable;
  /** The changed row's key (blocklist: `kind:value`); null: any row of the table may have changed. */
  key: string | null;
}

/** Parses a notification payload; undefined for anything unexpected (the caller then forgets everything). */
export function parseReferenceChange(payload: string | undefined): ReferenceChange | undefined {
  if (!payload) return undefined;
  const separator = payload.indexOf(':');
  if (separator <= 0) return undefined;
  const table = payload.slice(0, separator);
  const key = payload.slice(separator + 1);
  if (!(REFERENCE_TABLES as readonly string[]).includes(table) || key === '') return undefined;
  return { table: table as ReferenceTable, key: key === '*' ? null : key };
}
