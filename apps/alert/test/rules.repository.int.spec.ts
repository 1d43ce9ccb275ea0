/**
 * RulesRepository against the real `rules` table (migration 0007: ids unique per owner through the
 * `rules_owner_id` index), including concurrent inserts racing for an id and for a tenant's last rule slot.
 */
import type { Database } from '@streamguard/common';
import { RuleDefinition, validateRule } from '@streamguard/stream-core';
import { RulesRepository } from '../src/rules/rules.repository';
import { quietLogger, testDatabase, uniqueName } from '../../../test/support/test-infra';

describe('RulesRepository (Postgres)', () => {
  let db: Database;
  let rules: RulesRepository;
  const tag = uniqueName('rr').toLowerCase();
  const [acme, globex, initech] = ['acme', 'globex', 'initech'].map((t) => `${t}-${tag}`);
  const id = (name: string) => `${name}.${tag}`;
  const NO_LIMIT = { maxRulesPerTenant: 1_000 };

  function rule(ruleId: string, severity: RuleDefinition['severity'] = 'high'): RuleDefinition {
    // A filter no event matches: services of later tests may load these rules before the cleanup.
    const result = validateRule({
      id: ruleId, version: 1, status: 'active', name: ruleId, severity, type: 'threshold',
      filters: [{ field: 'attributes.scenario', op: '==', value: tag }], params: { field: 'amountUsd', op: '>', value: 1 },
    });
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    return result.rule;
  }

  beforeAll(() => {
    db = testDatabase();
    rules = new RulesRepository(db, quietLogger);
  });

  afterAll(async () => {
    await db.query(`DELETE FROM rules WHERE rule_id LIKE $1`, [`%.${tag}`]);
    await db.close();
  });

  it('keeps ids unique per owner: two tenants may use one id; each operation touches one owner\'s rule', async () => {
    expect(await rules.insert(rule(id('shared'), 'low'), acme, NO_LIMIT)).toBeUndefined();
    expect(await rules.insert(rule(id('shared'), 'critical'), globex, NO_LIMIT)).toBeUndefined();
    expect(await rules.insert(rule(id('shared')), acme, NO_LIMIT)).toEqual({ reason: 'exists' });
    expect(await rules.find(id('shared'), acme)).toMatchObject({ severity: 'low', tenantId: acme });
    expect(await rules.find(id('shared'), globex)).toMatchObject({ severity: 'critical', tenantId: globex });
    expect(await rules.find(id('shared'), undefined)).toBeUndefined();

    const updated = await rules.update(id('shared'), acme, (current) => ({ ...current, version: current.version + 1, severity: 'medium' }));
    expect(updated).toMatchObject({ version: 2, severity: 'medium', tenantId: acme });
    expect(await rules.find(id('shared'), globex)).toMatchObject({ version: 1, severity: 'critical' });
    expect(await rules.update(id('shared'), initech, (c) => c)).toBeUndefined();

    expect(await rules.delete(id('shared'), globex)).toBe(true);
    expect(await rules.find(id('shared'), globex)).toBeUndefined();
    expect(await rules.find(id('shared'), acme)).toMatchObject({ version: 2 });
    const loaded = (await rules.loadAll()).filter((r) => r.id === id('shared'));
    expect(loaded.map((r) => r.tenantId)).toEqual([acme]);
  });

  it('never lets a tenant rule and a global rule share an id', async () => {
    expect(await rules.insert(rule(id('platform-wide')), undefined, NO_LIMIT)).toBeUndefined();
    expect(await rules.insert(rule(id('platform-wide')), acme, NO_LIMIT)).toEqual({ reason: 'global-rule' });
    expect(await rules.insert(rule(id('platform-wide')), undefined, NO_LIMIT)).toEqual({ reason: 'exists' });
    expect(await rules.insert(rule(id('tenant-only')), globex, NO_LIMIT)).toBeUndefined();
    expect(await rules.insert(rule(id('tenant-only')), acme, NO_LIMIT)).toBeUndefined();
    expect(await rules.insert(rule(id('tenant-only')), undefined, NO_LIMIT)).toEqual({ reason: 'tenant-rule', tenants: [acme, globex].sort() });
  });

  it('decides concurrent inserts of one id by a tenant and the platform for exactly one of them', async () => {
    const outcomes = await Promise.all([rules.insert(rule(id('race')), initech, NO_LIMIT), rules.insert(rule(id('race')), undefined, NO_LIMIT)]);
    expect(outcomes.filter((o) => o === undefined)).toHaveLength(1);
    const owners = (await db.query<{ tenant_id: string | null }>('SELECT tenant_id FROM rules WHERE rule_id = $1', [id('race')])).rows;
    expect(owners).toHaveLength(1);
  });

  it('caps a tenant\'s rules, also under concurrent inserts', async () => {
    const tenant = `cap-${tag}`;
    const limits = { maxRulesPerTenant: 3 };
    expect(await rules.insert(rule(id('cap-0')), tenant, limits)).toBeUndefined();
    const outcomes = await Promise.all([1, 2, 3, 4, 5].map((i) => rules.insert(rule(id(`cap-${i}`)), tenant, limits)));
    expect(outcomes.filter((o) => o === undefined)).toHaveLength(2);
    expect(outcomes.filter((o) => o !== undefined)).toEqual([1, 2, 3].map(() => ({ reason: 'limit-reached', limit: 3 })));
    expect((await rules.loadAll()).filter((r) => r.tenantId === tenant)).toHaveLength(3);
    // Global rules do not count against a tenant, and another tenant has its own budget.
    expect(await rules.insert(rule(id('cap-global')), undefined, limits)).toBeUndefined();
    expect(await rules.insert(rule(id('cap-0')), `other-${tag}`, limits)).toBeUndefined();
  });
});
