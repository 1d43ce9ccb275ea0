import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Put, Query, Res } from '@nestjs/common';
import { ApiError, parseLimit, rejectUnknownParams, RequirePlatformAdmin } from '@streamguard/common';
import type { FastifyReply } from 'fastify';
import { ReferenceDataRepository, StoredRecord } from './reference-data.repository';
import { FieldProblem, REFERENCE_FIELDS, REFERENCE_VALIDATORS, ReferenceKind } from './reference-validation';

/** Collections addressed by one path segment (`/v1/reference/<collection>/<id>`); the blocklist has two. */
type SingleKeyKind = Exclude<ReferenceKind, 'blocklist'>;
const SINGLE_KEY_KINDS: readonly SingleKeyKind[] = ['accounts', 'merchants', 'fx-rates'];

const NAMES: Record<ReferenceKind, { one: string; notFound: string; listKey: string }> = {
  accounts: { one: 'account', notFound: 'ACCOUNT_NOT_FOUND', listKey: 'accounts' },
  merchants: { one: 'merchant', notFound: 'MERCHANT_NOT_FOUND', listKey: 'merchants' },
  'fx-rates': { one: 'FX rate', notFound: 'FX_RATE_NOT_FOUND', listKey: 'fxRates' },
  blocklist: { one: 'blocklist entry', notFound: 'BLOCKLIST_ENTRY_NOT_FOUND', listKey: 'blocklist' },
};

/**
 * `/v1/reference`: accounts, merchants, FX rates and blocklist entries — data shared by all tenants, so
 * only the platform tenant's `admin` keys may read or change it. `PUT`
 * creates (201) or replaces (200) a whole record; invalid input is a 422 listing every `{field, reason}`.
 * Every write reaches every enrich instance within about a second (the tables' NOTIFY triggers).
 */
@Controller('v1/reference')
@RequirePlatformAdmin()
export class ReferenceDataController {
  constructor(@Inject(ReferenceDataRepository) private readonly repository: ReferenceDataRepository) {}

  @Get('blocklist')
  async listBlocklist(@Query() query: Record<string, string>): Promise<Record<string, unknown>> {
    rejectUnknownParams(query, ['kind', 'limit', 'after']);
    const limit = parseLimit(query.limit);
    let after: string[] | undefined;
    if (query.after) {
      // `after` is the `next` of the previous page: `<kind>:<value>` (kinds contain no colon).
      const separator = query.after.indexOf(':');
      if (separator <= 0) throw new ApiError(400, 'INVALID_PARAMETER', 'after must be <kind>:<value>, the "next" of the previous page');
      after = [query.after.slice(0, separator), query.after.slice(separator + 1)];
    }
    const items = await this.repository.list('blocklist', limit, after, { kind: query.kind || undefined });
    const last = items.at(-1);
    return { blocklist: items, next: items.length === limit && last ? `${last.kind}:${last.value}` : null };
  }

  @Get('blocklist/:kind/:value')
  async getBlocklistEntry(@Param('kind') kind: string, @Param('value') value: string): Promise<StoredRecord<'blocklist'>> {
    return this.found('blocklist', [kind, value]);
  }

  @Put('blocklist/:kind/:value')
  async putBlocklistEntry(@Param('kind') kind: string, @Param('value') value: string, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply): Promise<StoredRecord<'blocklist'>> {
    return this.replace('blocklist', { kind, value }, body, reply);
  }

  @Delete('blocklist/:kind/:value')
  @HttpCode(204)
  async deleteBlocklistEntry(@Param('kind') kind: string, @Param('value') value: string): Promise<void> {
    await this.remove('blocklist', [kind, value]);
  }

  @Get(':collection')
  async list(@Param('collection') collection: string, @Query() query: Record<string, string>): Promise<Record<string, unknown>> {
    const kind = singleKeyKind(collection);
    rejectUnknownParams(query, ['limit', 'after']);
    const limit = parseLimit(query.limit);
    const items = await this.repository.list(kind, limit, query.after ? [query.after] : undefined);
    const keyField = REFERENCE_FIELDS[kind].key[0];
    const last = items.at(-1) as Record<string, unknown> | undefined;
    return { [NAMES[kind].listKey]: items, next: items.length === limit && last ? String(last[keyField]) : null };
  }

  @Get(':collection/:id')
  async get(@Param('collection') collection: string, @Param('id') id: string): Promise<StoredRecord<SingleKeyKind>> {
    return this.found(singleKeyKind(collection), [id]);
  }

  @Put(':collection/:id')
  async put(@Param('collection') collection: string, @Param('id') id: string, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply): Promise<StoredRecord<SingleKeyKind>> {
    const kind = singleKeyKind(collection);
    return this.replace(kind, { [REFERENCE_FIELDS[kind].key[0]]: id }, body, reply);
  }

  @Delete(':collection/:id')
  @HttpCode(204)
  async delete(@Param('collection') collection: string, @Param('id') id: string): Promise<void> {
    await this.remove(singleKeyKind(collection), [id]);
  }

  private async found<K extends ReferenceKind>(kind: K, key: string[]): Promise<StoredRecord<K>> {
    const record = await this.repository.get(kind, key);
    if (!record) throw notFound(kind, key);
    return record;
  }

  private async remove(kind: ReferenceKind, key: string[]): Promise<void> {
    if (!(await this.repository.delete(kind, key))) throw notFound(kind, key);
  }

  /** The path names the record; the body holds the rest (key fields in the body must agree with the path). */
  private async replace<K extends ReferenceKind>(kind: K, pathKey: Record<string, string>, body: unknown, reply: FastifyReply): Promise<StoredRecord<K>> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw invalid(kind, [{ field: '', reason: 'the body must be a JSON object' }]);
    }
    const problems: FieldProblem[] = Object.entries(pathKey)
      .filter(([field, value]) => (body as Record<string, unknown>)[field] !== undefined && (body as Record<string, unknown>)[field] !== value)
      .map(([field, value]) => ({ field, reason: `differs from the path (${JSON.stringify(value)})` }));
    const result = REFERENCE_VALIDATORS[kind]({ ...body, ...pathKey });
    if (!result.ok) problems.push(...result.problems);
    if (problems.length > 0 || !result.ok) throw invalid(kind, problems);
    const summary = await this.repository.upsert(kind, [result.record]);
    void reply.status(summary.inserted > 0 ? 201 : 200);
    return this.found(kind, Object.values(pathKey));
  }
}

function singleKeyKind(collection: string): SingleKeyKind {
  if ((SINGLE_KEY_KINDS as readonly string[]).includes(collection)) return collection as SingleKeyKind;
  throw new ApiError(404, 'NOT_FOUND', `no reference collection "${collection}"; use accounts, merchants, fx-rates or blocklist/<kind>/<value>`);
}

function notFound(kind: ReferenceKind, key: string[]): ApiError {
  return new ApiError(404, NAMES[kind].notFound, `no ${NAMES[kind].one} ${key.join(':')}`);
}

function invalid(kind: ReferenceKind, problems: FieldProblem[]): ApiError {
  const summary = problems.map((p) => `${p.field || 'body'} ${p.reason}`).join('; ');
  return new ApiError(422, 'INVALID_REFERENCE_DATA', `the ${NAMES[kind].one} is invalid: ${summary}`, problems);
}
