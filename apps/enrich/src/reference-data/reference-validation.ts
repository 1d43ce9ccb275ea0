/**
 * The one definition of valid reference data: the REST API (`PUT /v1/reference/...`) and the bulk import
 * command (`npm run import`) both validate with these functions, so a row the API refuses is refused by the
 * import too, with the same field and reason.
 *
 * A record is a flat object whose fields are the JSON field names of the API (camelCase); CSV headers use
 * the same names. Every problem is reported, not only the first.
 */
import { isIP } from 'node:net';
import type { BlocklistKind } from '@streamguard/common';
import { BLOCKLIST_KINDS } from '@streamguard/stream-core';

export const REFERENCE_KINDS = ['accounts', 'merchants', 'fx-rates', 'blocklist'] as const;
export type ReferenceKind = (typeof REFERENCE_KINDS)[number];

export interface AccountRecord {
  accountId: string;
  /** ISO 3166-1 alpha-2. */
  homeCountry: string | null;
  riskTier: string;
  /** `YYYY-MM-DD`. */
  openedAt: string | null;
}

export interface MerchantRecord {
  merchantId: string;
  name: string | null;
  /** ISO 18245 merchant category code, 4 digits. */
  mcc: string | null;
  category: string | null;
  country: string | null;
  /** 0 (harmless) to 1 (fraudulent). */
  riskScore: number | null;
}

export interface FxRateRecord {
  /** ISO 4217. */
  currency: string;
  /** USD value of one unit of `currency`. */
  usdRate: number;
}

export interface BlocklistRecord {
  kind: BlocklistKind;
  value: string;
  reason: string;
}

export interface ReferenceRecords {
  accounts: AccountRecord;
  merchants: MerchantRecord;
  'fx-rates': FxRateRecord;
  blocklist: BlocklistRecord;
}

export interface FieldProblem {
  field: string;
  reason: string;
}

export type Validated<T> = { ok: true; record: T } | { ok: false; problems: FieldProblem[] };

type FieldType = 'string' | 'number';

/** Fields of each kind (in CSV column order), their JSON type, and which of them form the key. */
export const REFERENCE_FIELDS: { [K in ReferenceKind]: { key: ReadonlyArray<keyof ReferenceRecords[K] & string>; fields: Readonly<Record<keyof ReferenceRecords[K] & string, FieldType>> } } = {
  accounts: { key: ['accountId'], fields: { accountId: 'string', homeCountry: 'string', riskTier: 'string', openedAt: 'string' } },
  merchants: { key: ['merchantId'], fields: { merchantId: 'string', name: 'string', mcc: 'string', category: 'string', country: 'string', riskScore: 'number' } },
  'fx-rates': { key: ['currency'], fields: { currency: 'string', usdRate: 'number' } },
  blocklist: { key: ['kind', 'value'], fields: { kind: 'string', value: 'string', reason: 'string' } },
};

export const REFERENCE_LIMITS = {
  idMaxLength: 128,
  nameMaxLength: 256,
  categoryMaxLength: 64,
  reasonMaxLength: 500,
  maxUsdRate: 1e9,
} as const;

const COUNTRY = /^[A-Z]{2}$/;
const CURRENCY = /^[A-Z]{3}$/;
const MCC = /^\d{4}$/;
const RISK_TIER = /^[a-z][a-z0-9_-]{0,31}$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

export const DEFAULT_RISK_TIER = 'standard';

/** Reads one record's fields and collects problems; each reader returns undefined for a bad value. */
class RecordReader {
  readonly problems: FieldProblem[] = [];

  constructor(private readonly input: Record<string, unknown>) {}

  fail(field: string, reason: string): undefined {
    this.problems.push({ field, reason });
    return undefined;
  }

  /** `undefined` when absent or null (and, if required, a problem). */
  private present(field: string, required: boolean): unknown {
    const value = this.input[field];
    if (value === undefined || value === null) return required ? this.fail(field, 'is required') : undefined;
    return value;
  }

  text(field: string, required: boolean, maxLength: number, pattern?: RegExp, patternReason?: string): string | undefined {
    const value = this.present(field, required);
    if (value === undefined) return undefined;
    if (typeof value !== 'string') return this.fail(field, `must be a string, got ${describeType(value)}`);
    if (value.length === 0 || value.length > maxLength) return this.fail(field, `must be 1-${maxLength} characters, got ${value.length}`);
    // Control characters break logs and CSV exports; no legitimate id, name or reason contains them.
    if (CONTROL_CHARACTERS.test(value)) return this.fail(field, 'must not contain control characters');
    if (pattern && !pattern.test(value)) return this.fail(field, patternReason ?? `must match ${pattern}`);
    return value;
  }

  number(field: string, required: boolean, check: (n: number) => boolean, rangeReason: string): number | undefined {
    const value = this.present(field, required);
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value)) return this.fail(field, `must be a finite number, got ${describeType(value)}`);
    if (!check(value)) return this.fail(field, rangeReason);
    return value;
  }

  date(field: string): string | undefined {
    const value = this.text(field, false, 10, DATE, 'must be a date YYYY-MM-DD');
    if (value === undefined) return undefined;
    const [year, month, day] = DATE.exec(value)!.slice(1).map(Number);
    const calendar = new Date(Date.UTC(year, month - 1, day));
    if (year < 1900 || calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) return this.fail(field, 'must be an existing date from 1900-01-01');
    return value;
  }
}

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function start(kind: ReferenceKind, input: unknown): RecordReader | FieldProblem[] {
  if (!isPlainObject(input)) return [{ field: '', reason: `must be a JSON object, got ${describeType(input)}` }];
  const reader = new RecordReader(input);
  // A typo ("homecountry") must not silently store null.
  for (const key of Object.keys(input)) if (!(key in REFERENCE_FIELDS[kind].fields)) reader.fail(key, 'unknown field');
  return reader;
}

function finish<T>(reader: RecordReader, record: () => T): Validated<T> {
  return reader.problems.length > 0 ? { ok: false, problems: reader.problems } : { ok: true, record: record() };
}

const COUNTRY_REASON = 'must be an ISO 3166-1 alpha-2 code of 2 upper-case letters';
const id = (r: RecordReader, field: string) => r.text(field, true, REFERENCE_LIMITS.idMaxLength);

export function validateAccount(input: unknown): Validated<AccountRecord> {
  const r = start('accounts', input);
  if (Array.isArray(r)) return { ok: false, problems: r };
  const accountId = id(r, 'accountId');
  const homeCountry = r.text('homeCountry', false, 2, COUNTRY, COUNTRY_REASON);
  const riskTier = r.text('riskTier', false, 32, RISK_TIER, 'must be 1-32 characters: a lower-case letter, then lower-case letters, digits, _ or -');
  const openedAt = r.date('openedAt');
  return finish(r, () => ({ accountId: accountId!, homeCountry: homeCountry ?? null, riskTier: riskTier ?? DEFAULT_RISK_TIER, openedAt: openedAt ?? null }));
}

export function validateMerchant(input: unknown): Validated<MerchantRecord> {
  const r = start('merchants', input);
  if (Array.isArray(r)) return { ok: false, problems: r };
  const merchantId = id(r, 'merchantId');
  const name = r.text('name', false, REFERENCE_LIMITS.nameMaxLength);
  const mcc = r.text('mcc', false, 4, MCC, 'must be an ISO 18245 merchant category code of 4 digits');
  const category = r.text('category', false, REFERENCE_LIMITS.categoryMaxLength);
  const country = r.text('country', false, 2, COUNTRY, COUNTRY_REASON);
  const riskScore = r.number('riskScore', false, (n) => n >= 0 && n <= 1, 'must be from 0 to 1');
  return finish(r, () => ({
    merchantId: merchantId!, name: name ?? null, mcc: mcc ?? null, category: category ?? null, country: country ?? null, riskScore: riskScore ?? null,
  }));
}

export function validateFxRate(input: unknown): Validated<FxRateRecord> {
  const r = start('fx-rates', input);
  if (Array.isArray(r)) return { ok: false, problems: r };
  const currency = r.text('currency', true, 3, CURRENCY, 'must be an ISO 4217 code of 3 upper-case letters');
  const usdRate = r.number('usdRate', true, (n) => n > 0 && n <= REFERENCE_LIMITS.maxUsdRate, `must be > 0 and <= ${REFERENCE_LIMITS.maxUsdRate}`);
  // Enrichment always converts USD at 1; a different stored rate would only mislead a reader of the table.
  if (currency === 'USD' && usdRate !== undefined && usdRate !== 1) r.fail('usdRate', 'must be 1 for USD (the base currency)');
  return finish(r, () => ({ currency: currency!, usdRate: usdRate! }));
}

export function validateBlocklistEntry(input: unknown): Validated<BlocklistRecord> {
  const r = start('blocklist', input);
  if (Array.isArray(r)) return { ok: false, problems: r };
  const rawKind = (input as Record<string, unknown>).kind;
  let kind: BlocklistKind | undefined;
  if (rawKind === undefined || rawKind === null) r.fail('kind', 'is required');
  else if (!BLOCKLIST_KINDS.includes(rawKind as BlocklistKind)) r.fail('kind', `must be one of ${BLOCKLIST_KINDS.join(', ')}`);
  else kind = rawKind as BlocklistKind;
  // The value must be spelled exactly as events carry it, or it would never match.
  let value: string | undefined;
  if (kind === 'country') value = r.text('value', true, 2, COUNTRY, COUNTRY_REASON);
  else if (kind === 'ip') {
    value = r.text('value', true, 45);
    if (value !== undefined && isIP(value) === 0) value = r.fail('value', 'must be an IPv4 or IPv6 address');
  } else value = r.text('value', true, REFERENCE_LIMITS.idMaxLength);
  const reason = r.text('reason', true, REFERENCE_LIMITS.reasonMaxLength);
  return finish(r, () => ({ kind: kind!, value: value!, reason: reason! }));
}

export const REFERENCE_VALIDATORS: { [K in ReferenceKind]: (input: unknown) => Validated<ReferenceRecords[K]> } = {
  accounts: validateAccount,
  merchants: validateMerchant,
  'fx-rates': validateFxRate,
  blocklist: validateBlocklistEntry,
};

/** The key fields of a record, joined: identifies the row (blocklist: `card:c-1`). */
export function recordKey<K extends ReferenceKind>(kind: K, record: ReferenceRecords[K]): string {
  return REFERENCE_FIELDS[kind].key.map((field) => String(record[field])).join(':');
}
