import { ApiError, AuthenticatedCaller, ErrorBody, JsonLogger } from '@streamguard/common';
import { RuleDefinition, validateRule } from '@streamguard/stream-core';
import { RuleSet } from './rule-set';
import { LoadedView, RulesController, RuleView } from './rules.controller';
import type { RuleInsertRefusal, RulesRepository } from './rules.repository';
import type { TenantRuleLimits } from './tenant-rule-limits';

const DAY = 24 * 60 * 60 * 1000;

/** The repository's contract, in memory: rules are unique per (owner, id) and carry their owner as the runtime `tenantId`. */
class InMemoryRules implements Pick<RulesRepository, 'loadAll' | 'find' | 'insert' | 'update' | 'delete'> {
  private readonly rows = new Map<string, RuleDefinition>();

  put(rule: RuleDefinition): void {
    this.rows.set(slot(rule.id, rule.tenantId), rule);
  }

  get(id: string, owner?: string): RuleDefinition | undefined {
    return this.rows.get(slot(id, owner));
  }

  async loadAll(): Promise<RuleDefinition[]> {
    return [...this.rows.values()].sort((a, b) => (slot(a.id, a.tenantId) < slot(b.id, b.tenantId) ? -1 : 1)).map((r) => structuredClone(r));
  }

  async find(ruleId: string, owner: string | undefined): Promise<RuleDefinition | undefined> {
    return structuredClone(this.get(ruleId, owner));
  }

  async insert(rule: RuleDefinition, owner: string | undefined, limits: { maxRulesPerTenant: number }): Promise<RuleInsertRefusal | undefined> {
    const owners = [...this.rows.values()].filter((r) => r.id === rule.id).map((r) => r.tenantId);
    if (owners.includes(owner)) return { reason: 'exists' };
    if (owner === undefined && owners.length > 0) return { reason: 'tenant-rule', tenants: (owners as string[]).sort() };
    if (owner !== undefined && owners.includes(undefined)) return { reason: 'global-rule' };
    if (owner !== undefined && [...this.rows.values()].filter((r) => r.tenantId === owner).length >= limits.maxRulesPerTenant) {
      return { reason: 'limit-reached', limit: limits.maxRulesPerTenant };
    }
    this.put(owner === undefined ? rule : { ...rule, tenantId: owner });
    return undefined;
  }

  async update(ruleId: string, owner: string | undefined, change: (current: RuleDefinition) => RuleDefinition): Promise<RuleDefinition | undefined> {
    const current = this.get(ruleId, owner);
    if (!current) return undefined;
    const next = change(structuredClone(current));
    const stored = owner === undefined ? next : { ...next, tenantId: owner };
    this.put(stored);
    return structuredClone(stored);
  }

  async delete(ruleId: string, owner: string | undefined, check: (current: RuleDefinition) => void = () => undefined): Promise<boolean> {
    const current = this.get(ruleId, owner);
    if (!current) return false;
    check(structuredClone(current));
    this.rows.delete(slot(ruleId, owner));
    return true;
  }
}

const slot = (id: string, owner: string | undefined) => `${id}\u0000${owner ?? ''}`;

const caller = (tenantId: string): AuthenticatedCaller => ({ tenantId, keyId: `k-${tenantId}`, scopes: ['admin'], limits: { ratePerSecond: 100, burst: 100 } });
const acme = caller('acme');
const globex = caller('globex');
const platform = caller('platform');
const NONE = {};

const rule = (id: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  id, name: id, severity: 'high', type: 'threshold', params: { field: 'amountUsd', op: '>', value: 1000 }, ...extra,
});
const velocity = (id: string, windowMs: number, groupBy = ['accountId']) => rule(id, { type: 'aggregate', params: { groupBy, aggregation: 'count', windowMs, op: '>', limit: 5 } });
const sequence = (id: string, withinMs: number) => rule(id, {
  type: 'sequence', params: { first: [{ field: 'amountUsd', op: '<', value: 1 }], then: [{ field: 'amountUsd', op: '>', value: 500 }], withinMs },
});
const stored = (id: string, tenantId?: string, extra: Record<string, unknown> = {}): RuleDefinition => {
  const result = validateRule({ version: 1, status: 'active', ...rule(id), ...extra });
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

const LIMITS: TenantRuleLimits = { maxRulesPerTenant: 4, tenantMaxWindowMs: 7 * DAY };

/**
 * Global `large-amount`; acme's `acme.velocity` and `shared`; globex's `globex.big` and `shared` (same id as acme's).
 * The RuleSet is the real one, loading from the same in-memory rules.
 */
async function setup(limits = LIMITS) {
  const rules = new InMemoryRules();
  for (const r of [stored('large-amount'), stored('acme.velocity', 'acme'), stored('globex.big', 'globex'), stored('shared', 'acme'), stored('shared', 'globex', { severity: 'low' })]) {
    rules.put(r);
  }
  const ruleSet = new RuleSet(rules as unknown as RulesRepository, undefined as never, new JsonLogger('error', { service: 'test' }), 60_000);
  await ruleSet.reload();
  return { rules, ruleSet, controller: new RulesController(rules as unknown as RulesRepository, ruleSet, limits) };
}

const owners = (views: Array<Pick<RuleView, 'id' | 'tenantId'>>) => views.map((r) => [r.id, r.tenantId]);

describe('RulesController: what a caller sees', () => {
  it('shows a tenant admin the global rules and its own, each with its tenantId', async () => {
    const { controller } = await setup();
    expect(owners((await controller.list(acme)).rules)).toEqual([['acme.velocity', 'acme'], ['large-amount', null], ['shared', 'acme']]);
    expect(owners(controller.loaded(acme).rules)).toEqual([['acme.velocity', 'acme'], ['large-amount', null], ['shared', 'acme']]);
    expect(await controller.get('large-amount', NONE, acme)).toMatchObject({ id: 'large-amount', tenantId: null, version: 1 });
  });

  it('shows a platform admin every rule', async () => {
    const { controller } = await setup();
    expect((await controller.list(platform)).rules).toHaveLength(5);
    expect(controller.loaded(platform).rules).toHaveLength(5);
  });

  it('gives each tenant its own rule when two tenants use the same id', async () => {
    const { controller } = await setup();
    expect(await controller.get('shared', NONE, acme)).toMatchObject({ id: 'shared', tenantId: 'acme', severity: 'high' });
    expect(await controller.get('shared', NONE, globex)).toMatchObject({ id: 'shared', tenantId: 'globex', severity: 'low' });
    expect(await controller.get('shared', { tenant: 'acme' }, acme)).toMatchObject({ tenantId: 'acme' });
  });

  it('lets a platform admin address a tenant\'s rule with ?tenant= (without it: the global rule)', async () => {
    const { controller } = await setup();
    expect(await controller.get('shared', { tenant: 'globex' }, platform)).toMatchObject({ tenantId: 'globex', severity: 'low' });
    expect(await controller.get('large-amount', NONE, platform)).toMatchObject({ tenantId: null });
    expect(await failure(() => controller.get('shared', NONE, platform))).toMatchObject({ status: 404, code: 'RULE_NOT_FOUND' });
    expect(await failure(() => controller.get('large-amount', { tenant: 'acme' }, platform))).toMatchObject({ status: 404 });
    expect(await failure(() => controller.get('shared', { tenant: 'Not A Tenant' }, platform))).toMatchObject({ status: 400, code: 'INVALID_PARAMETER' });
  });

  it('refuses a tenant naming another tenant in ?tenant=, whether or not that tenant has such a rule', async () => {
    const { controller } = await setup();
    const existing = await failure(() => controller.get('globex.big', { tenant: 'globex' }, acme));
    const missing = await failure(() => controller.get('nope', { tenant: 'globex' }, acme));
    expect(existing).toEqual(missing);
    expect(existing).toMatchObject({ status: 403, code: 'TENANT_FROM_KEY' });
    expect(await failure(() => controller.get('shared', { owner: 'acme' }, acme))).toMatchObject({ status: 400, code: 'UNKNOWN_PARAMETER' });
  });

  it('answers for another tenant\'s rule exactly as for a rule that does not exist', async () => {
    const { controller } = await setup();
    const missing = await failure(() => controller.get('globex.big-nope', NONE, acme));
    const hidden = await failure(() => controller.get('globex.big', NONE, acme));
    expect(hidden).toEqual({ ...missing, message: missing.message.replace('globex.big-nope', 'globex.big') });
    expect(hidden).toMatchObject({ status: 404, code: 'RULE_NOT_FOUND' });
  });
});

describe('RulesController: GET /v1/rules/-/loaded', () => {
  it('gives a tenant its visible rules and their signature, but no instance-wide generation or load time', async () => {
    const { controller } = await setup();
    const view = controller.loaded(acme);
    expect(Object.keys(view).sort()).toEqual(['rules', 'signature']);
    expect(view.signature).toMatch(/^[0-9a-f]{16}$/);
    expect(controller.loaded(platform)).toMatchObject({ generation: 1, loadedAt: expect.any(Number), signature: expect.stringMatching(/^[0-9a-f]{16}$/) });
  });

  it('changes a tenant\'s signature only when a rule it can see changes', async () => {
    const { controller, ruleSet } = await setup();
    const before: Record<string, LoadedView> = { acme: controller.loaded(acme), globex: controller.loaded(globex), platform: controller.loaded(platform) };
    expect(before.acme.signature).not.toBe(before.globex.signature);

    // globex's churn: create, change, delete. acme sees none of it; globex and the platform do.
    await controller.create(rule('globex.new'), globex);
    await controller.replace('shared', rule('shared', { status: 'paused' }), NONE, globex);
    await controller.remove('globex.big', NONE, globex);
    await ruleSet.reload();
    expect(controller.loaded(acme)).toEqual(before.acme);
    expect(controller.loaded(globex).signature).not.toBe(before.globex.signature);
    expect(controller.loaded(platform).signature).not.toBe(before.platform.signature);
    expect(controller.loaded(platform).generation).toBe(2);

    // A change of a global rule is visible to every tenant.
    await controller.replace('large-amount', rule('large-amount'), NONE, platform);
    await ruleSet.reload();
    expect(controller.loaded(acme).signature).not.toBe(before.acme.signature);
  });

  it('gives two instances with the same visible rules the same signature', async () => {
    const [one, two] = [await setup(), await setup()];
    await one.controller.create(rule('globex.other'), globex);
    await one.ruleSet.reload();
    expect(one.controller.loaded(acme).signature).toBe(two.controller.loaded(acme).signature);
  });
});

describe('RulesController: creating', () => {
  it('makes a tenant admin\'s rule its tenant\'s, and a platform admin\'s rule global', async () => {
    const { controller, rules } = await setup();
    expect(await controller.create(rule('acme.large'), acme)).toMatchObject({ id: 'acme.large', version: 1, status: 'active', tenantId: 'acme' });
    expect(rules.get('acme.large', 'acme')?.tenantId).toBe('acme');
    expect(await controller.create(rule('huge'), platform)).toMatchObject({ id: 'huge', tenantId: null });
    expect(rules.get('huge')).not.toHaveProperty('tenantId');
  });

  it.each([['a tenant', 'globex'], ['null', null], ['the caller\'s own tenant', 'acme']])('rejects a body naming tenantId (%s): the tenant comes from the API key', async (_name, tenantId) => {
    const { controller, rules } = await setup();
    const refused = await failure(() => controller.create(rule('acme.x', { tenantId }), acme));
    expect(refused).toMatchObject({ status: 422, code: 'INVALID_RULE', details: [{ path: '$.tenantId' }] });
    expect(refused.message).toMatch(/tenant of a rule comes from the API key/);
    expect(rules.get('acme.x', 'acme')).toBeUndefined();
  });

  it('creates an id another tenant uses like any free id: no oracle for other tenants\' rules', async () => {
    const { controller, rules } = await setup();
    expect(await controller.create(rule('globex.big', { severity: 'medium' }), acme)).toMatchObject({ id: 'globex.big', tenantId: 'acme', severity: 'medium' });
    expect(await controller.create(rule('never-used'), acme)).toMatchObject({ id: 'never-used', tenantId: 'acme' });
    expect(rules.get('globex.big', 'globex')).toMatchObject({ severity: 'high', version: 1 });
  });

  it('refuses an id of the caller\'s own rules with 409 RULE_EXISTS', async () => {
    const { controller } = await setup();
    const taken = await failure(() => controller.create(rule('shared'), acme));
    expect(taken).toMatchObject({ status: 409, code: 'RULE_EXISTS' });
    expect(taken.message).toContain('PUT /v1/rules/shared');
  });

  it('refuses a tenant rule with a global rule\'s id: both would run on the tenant\'s events', async () => {
    const { controller } = await setup();
    const taken = await failure(() => controller.create(rule('large-amount'), acme));
    expect(taken).toMatchObject({ status: 409, code: 'RULE_EXISTS' });
    expect(taken.message).toMatch(/taken by a global rule/);
  });

  it('refuses a global rule with an id some tenant uses, naming the tenants (the platform sees everything)', async () => {
    const { controller, rules } = await setup();
    const taken = await failure(() => controller.create(rule('shared'), platform));
    expect(taken).toMatchObject({ status: 409, code: 'RULE_EXISTS' });
    expect(taken.message).toContain('acme, globex');
    expect(await failure(() => controller.create(rule('large-amount'), platform))).toMatchObject({ status: 409, code: 'RULE_EXISTS' });
    expect(rules.get('shared')).toBeUndefined();
  });
});

describe('RulesController: tenant rule limits', () => {
  it('refuses a tenant\'s rule beyond RULES_MAX_PER_TENANT with 409 RULE_LIMIT_REACHED; other tenants and the platform are not affected', async () => {
    const { controller, rules } = await setup(); // acme owns 2 of 4
    await controller.create(rule('acme.3'), acme);
    await controller.create(rule('acme.4'), acme);
    const full = await failure(() => controller.create(rule('acme.5'), acme));
    expect(full).toMatchObject({ status: 409, code: 'RULE_LIMIT_REACHED' });
    expect(full.message).toMatch(/already has 4 rules/);
    expect(rules.get('acme.5', 'acme')).toBeUndefined();
    expect(await controller.create(rule('globex.3'), globex)).toMatchObject({ tenantId: 'globex' });
    for (let i = 0; i < 5; i++) await controller.create(rule(`global-${i}`), platform);
    // Deleting one makes room again.
    await controller.remove('acme.3', NONE, acme);
    expect(await controller.create(rule('acme.5'), acme)).toMatchObject({ tenantId: 'acme' });
  });

  it('refuses a tenant rule whose windowMs or withinMs exceeds RULES_TENANT_MAX_WINDOW_MS with 422 and the path', async () => {
    const { controller, rules } = await setup();
    expect(await controller.create(velocity('acme.week', 7 * DAY), acme)).toMatchObject({ tenantId: 'acme' });
    const aggregate = await failure(() => controller.create(velocity('acme.long', 7 * DAY + 1), acme));
    expect(aggregate).toMatchObject({ status: 422, code: 'RULE_OVER_LIMIT', details: [{ path: '$.params.windowMs' }] });
    expect(aggregate.message).toContain('at most 604800000 ms (7 d)');
    expect(await failure(() => controller.create(sequence('acme.seq', 8 * DAY), acme))).toMatchObject({ status: 422, details: [{ path: '$.params.withinMs' }] });
    expect(rules.get('acme.long', 'acme')).toBeUndefined();
  });

  it('refuses a tenant rule grouped by eventId (a group per event) with 422 and the path', async () => {
    const { controller } = await setup();
    expect(await failure(() => controller.create(velocity('acme.per-event', 60_000, ['accountId', 'eventId']), acme)))
      .toMatchObject({ status: 422, code: 'RULE_OVER_LIMIT', details: [{ path: '$.params.groupBy[1]' }] });
  });

  it('does not limit global rules', async () => {
    const { controller } = await setup();
    expect(await controller.create(velocity('yearly', 366 * DAY, ['eventId']), platform)).toMatchObject({ tenantId: null });
    expect(await controller.create(sequence('slow-probe', 30 * DAY), platform)).toMatchObject({ tenantId: null });
  });

  it('applies to replacements of tenant rules, by whoever makes them, and leaves the rule as it was', async () => {
    const { controller, rules } = await setup();
    await controller.create(velocity('acme.burst', 60_000), acme);
    for (const who of [acme, platform]) {
      const refused = await failure(() => controller.replace('acme.burst', velocity('acme.burst', 30 * DAY), who === platform ? { tenant: 'acme' } : NONE, who));
      expect(refused).toMatchObject({ status: 422, code: 'RULE_OVER_LIMIT', details: [{ path: '$.params.windowMs' }] });
    }
    expect(rules.get('acme.burst', 'acme')).toMatchObject({ version: 1, params: { windowMs: 60_000 } });
    expect(await controller.replace('large-amount', velocity('large-amount', 30 * DAY), NONE, platform)).toMatchObject({ version: 2, tenantId: null });
  });
});

describe('RulesController: changing and deleting', () => {
  it('lets a tenant admin replace its own rule; the tenant stays', async () => {
    const { controller, rules } = await setup();
    const updated = await controller.replace('acme.velocity', { ...rule('acme.velocity'), version: 1, status: 'paused' }, NONE, acme);
    expect(updated).toMatchObject({ id: 'acme.velocity', version: 2, status: 'paused', tenantId: 'acme' });
    expect(rules.get('acme.velocity', 'acme')).toMatchObject({ version: 2, tenantId: 'acme' });
  });

  it('changes and deletes only the caller\'s rule when two tenants share an id', async () => {
    const { controller, rules } = await setup();
    expect(await controller.replace('shared', rule('shared', { severity: 'critical' }), NONE, acme)).toMatchObject({ version: 2, severity: 'critical', tenantId: 'acme' });
    expect(rules.get('shared', 'globex')).toMatchObject({ version: 1, severity: 'low' });
    await controller.remove('shared', NONE, globex);
    expect(rules.get('shared', 'globex')).toBeUndefined();
    expect(rules.get('shared', 'acme')).toMatchObject({ version: 2 });
  });

  it('refuses changes to a global rule with 403 GLOBAL_RULE, and leaves it alone', async () => {
    const { controller, rules } = await setup();
    const before = structuredClone(rules.get('large-amount'));
    for (const refused of [
      await failure(() => controller.replace('large-amount', rule('large-amount'), NONE, acme)),
      await failure(() => controller.remove('large-amount', NONE, acme)),
    ]) {
      expect(refused).toMatchObject({ status: 403, code: 'GLOBAL_RULE' });
      expect(refused.message).toMatch(/global rules are managed by the platform tenant/);
    }
    expect(rules.get('large-amount')).toEqual(before);
  });

  it('answers 404 for another tenant\'s rule, also with a stale version (no 409 that would reveal it)', async () => {
    const { controller, rules } = await setup();
    expect(await failure(() => controller.replace('globex.big', rule('globex.big'), NONE, acme))).toMatchObject({ status: 404, code: 'RULE_NOT_FOUND' });
    expect(await failure(() => controller.replace('globex.big', { ...rule('globex.big'), version: 7 }, NONE, acme))).toMatchObject({ status: 404 });
    expect(await failure(() => controller.remove('globex.big', NONE, acme))).toMatchObject({ status: 404, code: 'RULE_NOT_FOUND' });
    expect(rules.get('globex.big', 'globex')).toMatchObject({ version: 1, tenantId: 'globex' });
  });

  it('rejects tenantId in a replacement body, even the rule\'s own tenant', async () => {
    const { controller } = await setup();
    expect(await failure(() => controller.replace('acme.velocity', { ...rule('acme.velocity'), tenantId: 'acme' }, NONE, acme))).toMatchObject({ status: 422, code: 'INVALID_RULE' });
  });

  it('lets a tenant admin delete its own rule', async () => {
    const { controller, rules } = await setup();
    await controller.remove('acme.velocity', NONE, acme);
    expect(rules.get('acme.velocity', 'acme')).toBeUndefined();
  });

  it('lets a platform admin change and delete any rule (a tenant\'s with ?tenant=) without moving it to another tenant', async () => {
    const { controller, rules } = await setup();
    expect(await controller.replace('globex.big', rule('globex.big', { severity: 'low' }), { tenant: 'globex' }, platform)).toMatchObject({ version: 2, severity: 'low', tenantId: 'globex' });
    expect(await controller.replace('large-amount', rule('large-amount'), NONE, platform)).toMatchObject({ version: 2, tenantId: null });
    expect(await failure(() => controller.replace('globex.big', rule('globex.big'), NONE, platform))).toMatchObject({ status: 404 });
    await controller.remove('globex.big', { tenant: 'globex' }, platform);
    expect(rules.get('globex.big', 'globex')).toBeUndefined();
    expect(await failure(() => controller.get('globex.big', NONE, globex))).toMatchObject({ status: 404 });
  });
});
