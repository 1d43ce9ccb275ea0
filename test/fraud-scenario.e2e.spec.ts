/**
 * Planted fraud through the whole pipeline: background traffic (out of order, 5 % delivered twice) plus one
 * planted pattern per rule type. The alerts in Postgres must be exactly the expected set — no misses, no
 * extras, no duplicates — and the alerts topic must carry each alertId once.
 */
import type { AlertMessage, KafkaPort, TopicNames, Database } from '@streamguard/common';
import { deliveryOrder, generateScenario } from '../tools/scenario/src/scenario';
import { scenarioRules } from '../tools/scenario/src/scenario-rules';
import { barrierAccounts } from './support/barrier';
import { batches, postEvents, sendJson } from './support/http';
import { ServiceStack } from './support/service-stack';
import { collectTopic, createTestTopics, testDatabase, testKafka, uniqueName } from './support/test-infra';
import { waitFor } from './support/wait-for';

const PARTITIONS = 3;

describe('fraud scenario end to end', () => {
  let kafka: KafkaPort;
  let db: Database;
  let topics: TopicNames;
  let stack: ServiceStack;
  const tag = uniqueName('sc');
  const rules = scenarioRules(tag);

  beforeAll(async () => {
    kafka = testKafka();
    db = testDatabase();
    topics = await createTestTopics(kafka, PARTITIONS);
    stack = await new ServiceStack({ topics, services: ['ingest', 'enrich', 'alert'] }).start();
    for (const rule of rules) expect((await sendJson('POST', `${stack.url('alert')}/v1/rules`, stack.auth, rule)).status).toBe(201);
    await waitFor('the scenario rules loaded by the alert service', async () => {
      const loaded = (await sendJson('GET', `${stack.url('alert')}/v1/rules/-/loaded`, stack.auth)).body as { rules: Array<{ id: string }> };
      return rules.every((r) => loaded.rules.some((l) => l.id === r.id)) || undefined;
    }, 5_000);
  }, 120_000);

  afterAll(async () => {
    for (const rule of rules) await sendJson('DELETE', `${stack.url('alert')}/v1/rules/${rule.id}`, stack.auth).catch(() => undefined);
    await stack?.stop();
    await db?.close();
  }, 60_000);

  it('raises exactly the planted alerts', async () => {
    const run = tag;
    const startTime = Date.now() - 3 * 3_600_000;
    const ruleIds = {
      'card-testing': rules[0].id, 'impossible-travel': rules[1].id, anomaly: rules[2].id, sequence: rules[3].id, blocklist: rules[4].id,
    };
    const scenario = generateScenario({ seed: 11, runId: run, startTime, backgroundAccounts: 60, backgroundEvents: 500, tag, ruleIds });
    const barriers = barrierAccounts(run, PARTITIONS).map((accountId, p) => ({
      eventId: `${run}-barrier-${p}`, occurredAt: startTime + 2 * 3_600_000, accountId, amount: 50_000, currency: 'USD', merchantId: 'mer-1',
    }));
    const alertsTopic = await collectTopic(kafka, topics.alerts);
    try {
      for (const batch of batches(deliveryOrder(scenario, 5), 100)) {
        const response = await postEvents(stack.url('ingest'), batch, stack.auth);
        expect(response).toEqual({ status: 202, body: { accepted: batch.length } });
      }
      expect((await postEvents(stack.url('ingest'), barriers, stack.auth)).status).toBe(202);

      // Every partition's barrier raised its large-amount alert: every earlier event has been evaluated.
      await waitFor('the barrier alerts of every partition', async () => {
        const { rows } = await db.query('SELECT 1 FROM alerts WHERE account_id = ANY($1::text[])', [barriers.map((b) => b.accountId)]);
        return rows.length === PARTITIONS || undefined;
      }, 60_000, 200);

      const { rows } = await db.query<{ rule_id: string; account_id: string; alert_id: string }>(
        `SELECT rule_id, account_id, alert_id FROM alerts WHERE account_id LIKE $1 AND account_id NOT LIKE $2`, [`${run}-%`, `${run}-barrier-%`],
      );
      const actual = rows.map((r) => `${r.rule_id} ${r.account_id}`).sort();
      const expected = scenario.expected.map((e) => `${e.ruleId} ${e.accountId}`).sort();
      expect(actual).toEqual(expected);

      // On the topic: the same alerts (barriers aside), each alertId exactly once.
      await waitFor('all alerts on the topic', () => alertsTopic.records.length >= rows.length + PARTITIONS || undefined, 30_000);
      const published = alertsTopic.records.map((r) => (JSON.parse(r.value!.toString()) as AlertMessage).alertId);
      expect(new Set(published).size).toBe(published.length);
      expect(published.filter((id) => rows.some((r) => r.alert_id === id)).sort()).toEqual(rows.map((r) => r.alert_id).sort());
    } finally {
      await alertsTopic.stop();
    }
  }, 180_000);
});
