import { AlertMessage, InboundRecord, JsonLogger, ManualClock, Queryable } from '@streamguard/common';
import { enrichedRecord } from '@streamguard/common/testing/enriched-records';
import { DEFAULT_RULES, RuleDefinition } from '@streamguard/stream-core';
import type { AlertsRepository } from '../alerts/alerts.repository';
import { RuleSet } from '../rules/rule-set';
import type { RulesRepository } from '../rules/rules.repository';
import { RulePartitionProcessor } from './rule-partition.processor';

const T0 = 1_700_000_000_000;

/** A RuleSet loaded (through the real tenant scoping) from these stored rules. */
async function ruleSetOf(rules: RuleDefinition[]): Promise<RuleSet> {
  const repository = { loadAll: async () => structuredClone(rules) } as unknown as RulesRepository;
  const ruleSet = new RuleSet(repository, undefined as never, new JsonLogger('error', { service: 'test' }), 60_000);
  await ruleSet.reload();
  return ruleSet;
}


/** Runs the batch and returns the alerts written to Postgres, which are also the ones published. */
async function alertsOf(processor: RulePartitionProcessor, records: InboundRecord[]): Promise<AlertMessage[]> {
  const output = processor.process(records);
  expect(output.rejected).toEqual([]);
  const published = (await output.write?.(undefined as unknown as Queryable)) ?? [];
  return published.map((r) => JSON.parse(String(r.value)) as AlertMessage);
}

/** Labels of every alerts_total increment. */
let counted: Array<Record<string, string>> = [];

async function setup(rules: RuleDefinition[]) {
  counted = [];
  const repository = { insertNew: async (_tx: Queryable, alerts: AlertMessage[]) => new Set(alerts.map((a) => a.alertId)) } as unknown as AlertsRepository;
  const alertsTotal = { inc: (labels: Record<string, string>) => void counted.push(labels) };
  const processor = new RulePartitionProcessor([], await ruleSetOf(rules), 'alerts', repository, alertsTotal, new ManualClock(T0));
  return processor;
}

const over = (id: string, value: number, tenantId?: string): RuleDefinition =>
  ({ ...DEFAULT_RULES[0], id, params: { field: 'amountUsd', op: '>', value }, ...(tenantId === undefined ? {} : { tenantId }) }) as RuleDefinition;

describe('RulePartitionProcessor: duplicates', () => {
  it('writes and publishes an alert once when its event is in the batch more than once (a retried request written twice)', async () => {
    const processor = await setup([over('big', 100)]);
    const event = enrichedRecord('acme', 'e-retried', T0, 500);
    const alerts = await alertsOf(processor, [event, { ...event, offset: '1' }, { ...event, offset: '2' }]);
    expect(alerts.map((a) => a.eventIds)).toEqual([['e-retried']]);
    expect(counted).toHaveLength(1);
  });
});

describe('RulePartitionProcessor: tenants', () => {
  it('keeps two tenants with the same account and event ids apart under a global rule with an explicit groupBy', async () => {
    // velocity-1m: more than 5 events per accountId in 60 s, 60 s cooldown; stored grouped by accountId only.
    const processor = await setup(DEFAULT_RULES.filter((r) => r.id === 'velocity-1m'));
    const batch = Array.from({ length: 6 }, (_, i) => [enrichedRecord('acme', `e${i}`, T0 + i), enrichedRecord('globex', `e${i}`, T0 + i)]).flat();
    const alerts = await alertsOf(processor, batch);
    expect(alerts.map((a) => [a.tenantId, a.groupKey, a.eventIds.at(-1), a.eventIds.length])).toEqual([
      ['acme', 'tenantId=acme|accountId=acc-1', 'e5', 6],
      ['globex', 'tenantId=globex|accountId=acc-1', 'e5', 6],
    ]);
    expect(alerts[0].alertId).not.toBe(alerts[1].alertId);
    // Each tenant has its own cooldown: globex's alert above was not silenced by acme's, and acme's still holds.
    expect(await alertsOf(processor, [enrichedRecord('acme', 'e6', T0 + 10)])).toEqual([]);
  });

  it('applies a tenant rule to its tenant only and a global rule to every tenant', async () => {
    const processor = await setup([
      { ...DEFAULT_RULES[0], id: 'acme.over-100', params: { field: 'amountUsd', op: '>', value: 100 }, tenantId: 'acme' } as RuleDefinition,
      DEFAULT_RULES.find((r) => r.id === 'large-amount')!,
    ]);
    const alerts = await alertsOf(processor, [
      enrichedRecord('acme', 'a1', T0, 500), enrichedRecord('globex', 'g1', T0, 500), enrichedRecord('globex', 'g2', T0, 20_000), enrichedRecord('acme', 'a2', T0, 20_000),
    ]);
    expect(alerts.map((a) => [a.tenantId, a.ruleId, a.eventIds[0]])).toEqual([
      ['acme', 'acme.over-100', 'a1'],
      ['globex', 'large-amount', 'g2'],
      ['acme', 'acme.over-100', 'a2'],
      ['acme', 'large-amount', 'a2'],
    ]);
  });

  it('runs two tenants\' rules with the same id side by side; alerts carry the API id, metrics the rule key', async () => {
    const processor = await setup([over('big', 100, 'globex'), over('big', 1_000, 'acme')]);
    const alerts = await alertsOf(processor, [enrichedRecord('acme', 'a1', T0, 500), enrichedRecord('globex', 'g1', T0, 500), enrichedRecord('acme', 'a2', T0, 5_000)]);
    expect(alerts.map((a) => [a.tenantId, a.ruleId, a.eventIds[0]])).toEqual([['globex', 'big', 'g1'], ['acme', 'big', 'a2']]);
    // The published message is the AlertMessage contract: the rule's owner is not an extra field in it.
    expect(alerts.every((a) => !('ruleTenantId' in a))).toBe(true);
    expect(counted).toEqual([{ rule: 'big@globex', severity: 'high' }, { rule: 'big@acme', severity: 'high' }]);
  });

  it('keeps a global rule and a tenant rule with the same id apart (two alerts, two alert ids)', async () => {
    const processor = await setup([over('big', 100, 'acme'), over('big', 100)]);
    const alerts = await alertsOf(processor, [enrichedRecord('acme', 'a1', T0, 500)]);
    expect(alerts.map((a) => a.ruleId)).toEqual(['big', 'big']);
    expect(alerts[0].alertId).not.toBe(alerts[1].alertId);
    expect(counted.map((l) => l.rule)).toEqual(['big', 'big@acme']);
  });
});
