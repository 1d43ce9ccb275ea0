/**
 * Rules are data: a running alert service applies create, pause, change and delete within 1 second, with no
 * restart, and every alert records the rule version that fired.
 */
import type { AlertMessage, KafkaPort, TopicNames } from '@streamguard/common';
import type { RuleDefinition } from '@streamguard/stream-core';
import { barrierAccounts } from './support/barrier';
import { postEvents, sendJson } from './support/http';
import { ServiceStack } from './support/service-stack';
import { createTestTopics, testKafka, uniqueName } from './support/test-infra';
import { waitFor } from './support/wait-for';

describe('rule lifecycle on a running alert service', () => {
  let kafka: KafkaPort;
  let topics: TopicNames;
  let stack: ServiceStack;
  const tag = uniqueName('lc');
  const ruleId = `spend-${tag}`.toLowerCase();

  beforeAll(async () => {
    kafka = testKafka();
    topics = await createTestTopics(kafka, 1);
    stack = await new ServiceStack({ topics, services: ['ingest', 'enrich', 'alert'] }).start();
  }, 120_000);

  afterAll(async () => {
    await sendJson('DELETE', `${stack.url('alert')}/v1/rules/${ruleId}`, stack.auth).catch(() => undefined);
    await stack?.stop();
  }, 60_000);

  const alertUrl = () => stack.url('alert');
  let n = 0;
  const account = `${tag}-acc`;
  /** Sends one tagged event of `amount` USD followed by a barrier (a large-amount event on the same partition). */
  async function sendAndSettle(amount: number): Promise<string> {
    n += 1;
    const eventId = `${tag}-e${n}`;
    const barrier = barrierAccounts(`${tag}-${n}`, 1)[0];
    const occurredAt = Date.now() - 60_000 + n;
    expect((await postEvents(stack.url('ingest'), [
      { eventId, occurredAt, accountId: account, amount, currency: 'USD', merchantId: 'mer-1', attributes: { scenario: tag } },
      { eventId: `${eventId}-barrier`, occurredAt, accountId: barrier, amount: 99_999, currency: 'USD', merchantId: 'mer-1' },
    ], stack.auth)).status).toBe(202);
    await waitFor('the barrier alert', async () => {
      const { alerts } = (await sendJson('GET', `${alertUrl()}/v1/alerts?accountId=${barrier}`, stack.auth)).body as { alerts: AlertMessage[] };
      return alerts.length === 1 || undefined;
    }, 30_000);
    return eventId;
  }

  async function alertsOfRule(): Promise<AlertMessage[]> {
    return ((await sendJson('GET', `${alertUrl()}/v1/alerts?ruleId=${ruleId}`, stack.auth)).body as { alerts: AlertMessage[] }).alerts;
  }

  /** The change must be live on the running instance within 1 s of the API call returning. */
  async function expectLoadedWithin1s(version: number | undefined, status?: string): Promise<number> {
    const started = Date.now();
    await waitFor(`rule ${ruleId} at version ${version ?? 'deleted'} loaded`, async () => {
      const { rules } = (await sendJson('GET', `${alertUrl()}/v1/rules/-/loaded`, stack.auth)).body as { rules: Array<{ id: string; version: number; status: string }> };
      const loaded = rules.find((r) => r.id === ruleId);
      if (version === undefined) return loaded === undefined || undefined;
      return (loaded?.version === version && (!status || loaded.status === status)) || undefined;
    }, 1_000, 20);
    return Date.now() - started;
  }

  it('applies create, pause, change and delete within a second', async () => {
    const rule: RuleDefinition = {
      id: ruleId, version: 1, name: 'Spend over 100', severity: 'low', status: 'active', type: 'threshold',
      filters: [{ field: 'attributes.scenario', op: '==', value: tag }], params: { field: 'amountUsd', op: '>', value: 100 },
    };
    const latencies: number[] = [];

    expect((await sendJson('POST', `${alertUrl()}/v1/rules`, stack.auth, rule)).status).toBe(201);
    latencies.push(await expectLoadedWithin1s(1));
    const first = await sendAndSettle(150);
    expect((await alertsOfRule()).map((a) => [a.eventIds[0], a.ruleVersion])).toEqual([[first, 1]]);

    // Pause: no alert for a qualifying event.
    expect((await sendJson('PUT', `${alertUrl()}/v1/rules/${ruleId}`, stack.auth, { ...rule, version: 1, status: 'paused' })).status).toBe(200);
    latencies.push(await expectLoadedWithin1s(2, 'paused'));
    await sendAndSettle(150);
    expect(await alertsOfRule()).toHaveLength(1);

    // Resume with a higher threshold: 300 no longer fires, 600 does, recorded as version 3.
    const changed = await sendJson('PUT', `${alertUrl()}/v1/rules/${ruleId}`, stack.auth, { ...rule, version: 2, params: { field: 'amountUsd', op: '>', value: 500 } });
    expect(changed).toMatchObject({ status: 200, body: { version: 3 } });
    latencies.push(await expectLoadedWithin1s(3, 'active'));
    await sendAndSettle(300);
    const fired = await sendAndSettle(600);
    expect((await alertsOfRule()).map((a) => [a.eventIds[0], a.ruleVersion]).sort()).toEqual([[first, 1], [fired, 3]].sort());

    // A stale version is refused and changes nothing.
    expect((await sendJson('PUT', `${alertUrl()}/v1/rules/${ruleId}`, stack.auth, { ...rule, version: 1 })).status).toBe(409);
    // An invalid rule is refused with the reason.
    const invalid = await sendJson('POST', `${alertUrl()}/v1/rules`, stack.auth, { ...rule, id: `${ruleId}-x`, params: { field: 'amountUsd', op: '≈', value: 1 } });
    expect(invalid.status).toBe(422);
    expect(JSON.stringify(invalid.body)).toContain('params.op');

    // Delete: nothing fires any more.
    expect((await sendJson('DELETE', `${alertUrl()}/v1/rules/${ruleId}`, stack.auth)).status).toBe(204);
    latencies.push(await expectLoadedWithin1s(undefined));
    await sendAndSettle(10_000 - 1);
    expect(await alertsOfRule()).toHaveLength(2);
    process.stdout.write(`rule change → loaded by the running alert service: ${latencies.join(', ')} ms\n`);
  }, 120_000);
});
