import { ApiError, AuthenticatedCaller, ErrorBody } from '@streamguard/common';
import { RuleDefinition, validateRule } from '@streamguard/stream-core';
import type { RuleSet } from './rule-set';
import { RulesController, RuleView } from './rules.controller';
import type { RulesRepository } from './rules.repository';

/** The repository's contract, in memory: rules carry their owner as the runtime `tenantId`. */
class InMemoryRules implements Pick<RulesRepository, 'loadAll' | 'find' | 'insert' | 'update' | 'delete'> {
  readonly rows = new Map<string, RuleDefinition>();

  async loadAll(): Promise<RuleDefinition[]> {
    return [...this.rows.values()].sort((a, b) => (a.id < b.id ? -1 : 1)).map((r) => structuredClone(r));
  }

  async find(ruleId: string): Promise<RuleDefinition | undefined> {
    return structuredClone(this.rows.get(ruleId));
  }

  async insert(rule: RuleDefinition, tenantId: string | undefined): Promise<boolean> {
    if (this.rows.has(rule.id)) return false;
    this.rows.set(rule.id, tenantId === undefined ? rule : { ...rule, tenantId });
    return true;
  }

  async update(ruleId: string, change: (current: RuleDefinition) => RuleDefinition): Promise<RuleDefinition | undefined> {
    const current = this.rows.get(ruleId);
    if (!current) return undefined;
    const next = change(structuredClone(current));
    const stored = current.tenantId === undefined ? next : { ...next, tenantId: current.tenantId };
    this.rows.set(ruleId, stored);
    return structuredClone(stored);
  }

  async delete(ruleId: string, check: (current: RuleDefinition) => void = () => undefined): Promise<boolean> {
    const current = this.rows.get(ruleId);
    if (!current) return false;
    check(structuredClone(current));
    this.rows.delete(ruleId);
    return true;
  }
}

const caller = (tenantId: string): AuthenticatedCaller => ({ tenantId, keyId: `k-${tenantId}`, scopes: ['admin'], limits: { ratePerSecond: 100, burst: 100 } });
const acme = caller('acme');
const globex = caller('globex');
const platform = caller('platform');

const rule = (id: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  id, name: id, severity: 'high', type: 'threshold', params: { field: 'amountUsd', op: '>', value: 1000 }, ...extra,
});
const stored = (id: string, tenantId?: string): RuleDefinition => {
  const result = validateRule({ version: 1, status: 'active', ...rule(id) });
  if (!result.ok) throw new Error('bad fixture');
  return tenantId === undefined ? result.rule : { ...result.rule, tenantId };
};

/** The HTTP status and body an ApiError would be answered with. */
async function failure(action: () => unknown): Promise<{ status: number } & ErrorBody['error']> {
  try {
    await action();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    const { error: body } = error.getResponse() as ErrorBody;
    return { status: error.getStatus(), ...body };
  }
  throw new Error('expected an ApiError');
}

function setup() {
  const rules = new InMemoryRules();
  for (const r of [stored('large-amount'), stored('acme.velocity', 'acme'), stored('globex.big', 'globex')]) rules.rows.set(r.id, r);
  const loaded = [...rules.rows.values()].map((r) => ({ id: r.id, version: r.version, status: r.status, tenantId: r.tenantId ?? null }));
  const ruleSet = { describe: () => ({ generation: 3, loadedAt: 1, rules: loaded }) } as unknown as RuleSet;
  return { rules, controller: new RulesController(rules as unknown as RulesRepository, ruleSet) };
}

const owners = (views: Array<Pick<RuleView, 'id' | 'tenantId'>>) => views.map((r) => [r.id, r.tenantId]);

describe('RulesController: what a caller sees', () => {
  it('shows a tenant admin the global rules and its own, each with its tenantId', async () => {
    const { controller } = setup();
    expect(owners((await controller.list(acme)).rules)).toEqual([['acme.velocity', 'acme'], ['large-amount', null]]);
    expect(owners(controller.loaded(acme).rules)).toEqual([['large-amount', null], ['acme.velocity', 'acme']]);
    expect(await controller.get('large-amount', acme)).toMatchObject({ id: 'large-amount', tenantId: null, version: 1 });
  });

  it('shows a platform admin every rule', async () => {
    const { controller } = setup();
    expect(owners((await controller.list(platform)).rules)).toEqual([['acme.velocity', 'acme'], ['globex.big', 'globex'], ['large-amount', null]]);
    expect(controller.loaded(platform).rules).toHaveLength(3);
  });

  it('answers for another tenant\'s rule exactly as for a rule that does not exist', async () => {
    const { controller } = setup();
    const missing = await failure(() => controller.get('globex.big-nope', acme));
    const hidden = await failure(() => controller.get('globex.big', acme));
    expect(hidden).toEqual({ ...missing, message: missing.message.replace('globex.big-nope', 'globex.big') });
    expect(hidden).toMatchObject({ status: 404, code: 'RULE_NOT_FOUND' });
  });
});

describe('RulesController: creating', () => {
  it('makes a tenant admin\'s rule its tenant\'s, and a platform admin\'s rule global', async () => {
    const { controller, rules } = setup();
    expect(await controller.create(rule('acme.large'), acme)).toMatchObject({ id: 'acme.large', version: 1, status: 'active', tenantId: 'acme' });
    expect(rules.rows.get('acme.large')?.tenantId).toBe('acme');
    expect(await controller.create(rule('huge'), platform)).toMatchObject({ id: 'huge', tenantId: null });
    expect(rules.rows.get('huge')).not.toHaveProperty('tenantId');
  });

  it.each([['a tenant', 'globex'], ['null', null], ['the caller\'s own tenant', 'acme']])('rejects a body naming tenantId (%s): the tenant comes from the API key', async (_name, tenantId) => {
    const { controller, rules } = setup();
    const refused = await failure(() => controller.create(rule('acme.x', { tenantId }), acme));
    expect(refused).toMatchObject({ status: 422, code: 'INVALID_RULE', details: [{ path: '$.tenantId' }] });
    expect(refused.message).toMatch(/tenant of a rule comes from the API key/);
    expect(rules.rows.has('acme.x')).toBe(false);
  });

  it('refuses an id that exists for any tenant, pointing at prefixes', async () => {
    const { controller } = setup();
    const taken = await failure(() => controller.create(rule('globex.big'), acme));
    expect(taken).toMatchObject({ status: 409, code: 'RULE_EXISTS' });
    expect(taken.message).toContain('"acme.globex.big"');
  });
});

describe('RulesController: changing and deleting', () => {
  it('lets a tenant admin replace its own rule; the tenant stays', async () => {
    const { controller, rules } = setup();
    const updated = await controller.replace('acme.velocity', { ...rule('acme.velocity'), version: 1, status: 'paused' }, acme);
    expect(updated).toMatchObject({ id: 'acme.velocity', version: 2, status: 'paused', tenantId: 'acme' });
    expect(rules.rows.get('acme.velocity')).toMatchObject({ version: 2, tenantId: 'acme' });
  });

  it('refuses changes to a global rule with 403 GLOBAL_RULE, and leaves it alone', async () => {
    const { controller, rules } = setup();
    const before = structuredClone(rules.rows.get('large-amount'));
    for (const refused of [
      await failure(() => controller.replace('large-amount', rule('large-amount'), acme)),
      await failure(() => controller.remove('large-amount', acme)),
    ]) {
      expect(refused).toMatchObject({ status: 403, code: 'GLOBAL_RULE' });
      expect(refused.message).toMatch(/global rules are managed by the platform tenant/);
    }
    expect(rules.rows.get('large-amount')).toEqual(before);
  });

  it('answers 404 for another tenant\'s rule, also with a stale version (no 409 that would reveal it)', async () => {
    const { controller, rules } = setup();
    expect(await failure(() => controller.replace('globex.big', rule('globex.big'), acme))).toMatchObject({ status: 404, code: 'RULE_NOT_FOUND' });
    expect(await failure(() => controller.replace('globex.big', { ...rule('globex.big'), version: 7 }, acme))).toMatchObject({ status: 404 });
    expect(await failure(() => controller.remove('globex.big', acme))).toMatchObject({ status: 404, code: 'RULE_NOT_FOUND' });
    expect(rules.rows.get('globex.big')).toMatchObject({ version: 1, tenantId: 'globex' });
  });

  it('rejects tenantId in a replacement body, even the rule\'s own tenant', async () => {
    const { controller } = setup();
    expect(await failure(() => controller.replace('acme.velocity', { ...rule('acme.velocity'), tenantId: 'acme' }, acme))).toMatchObject({ status: 422, code: 'INVALID_RULE' });
  });

  it('lets a tenant admin delete its own rule', async () => {
    const { controller, rules } = setup();
    await controller.remove('acme.velocity', acme);
    expect(rules.rows.has('acme.velocity')).toBe(false);
  });

  it('lets a platform admin change and delete any rule without moving it to another tenant', async () => {
    const { controller, rules } = setup();
    expect(await controller.replace('globex.big', rule('globex.big', { severity: 'low' }), platform)).toMatchObject({ version: 2, severity: 'low', tenantId: 'globex' });
    expect(await controller.replace('large-amount', rule('large-amount'), platform)).toMatchObject({ version: 2, tenantId: null });
    await controller.remove('globex.big', platform);
    expect(rules.rows.has('globex.big')).toBe(false);
    expect(await failure(() => controller.get('globex.big', globex))).toMatchObject({ status: 404 });
  });
});
