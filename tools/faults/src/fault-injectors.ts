/**
 * The faults, each a small function that breaks one thing while traffic flows, brings it back, and checks
 * that the fault really happened (the process is gone, the port is closed, the new instance got
 * partitions). Whether the pipeline survived it is judged only at the end, by the checker.
 */
import { createKafkaClient, JsonLogger, OutboundRecord } from '@streamguard/common';
import { portOpen } from '../../local-infra/src/kafka-broker';
import type { ServiceName } from '../../local-infra/src/service-process';
import type { FaultStack } from './fault-stack';
import { POISON_HEADER } from './oracle';
import type { PoisonRecord } from './checker';
import { sleep } from './traffic-generator';

export interface FaultContext {
  stack: FaultStack;
  runId: string;
  partitions: number;
  /** Every poison record produced so far (the checker expects each in the DLQ). */
  poison: PoisonRecord[];
  progress(message: string): void;
}

export interface Fault {
  name: string;
  run(ctx: FaultContext): Promise<string>;
}

const quiet = new JsonLogger('error', { service: 'fault-suite' });

async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await Promise.resolve().then(check).catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${Math.round(timeoutMs / 1000)} s`);
    await sleep(200);
  }
}

/** SIGKILL one instance (a crash mid-batch), then start it again with the same port and environment. */
export function killService(service: ServiceName, instance: string = service): Fault {
  return {
    name: `kill -9 ${instance}`,
    async run({ stack }) {
      const started = Date.now();
      await stack.kill(instance);
      await stack.start(service, instance);
      return `killed and ready again after ${((Date.now() - started) / 1000).toFixed(1)} s`;
    },
  };
}

/** Stop the broker (SIGTERM, clean shutdown), keep it down for `downMs`, start it on the same data. */
export function restartBroker(downMs: number): Fault {
  return {
    name: `broker down ${downMs / 1000} s`,
    async run({ stack }) {
      const started = Date.now();
      await stack.stopBroker();
      if (await portOpen(stack.options.kafkaPort)) throw new Error('broker port still open after stop');
      await sleep(downMs);
      await stack.startBroker();
      await stack.waitAllReady(120_000);
      return `all services ready ${((Date.now() - started) / 1000).toFixed(1)} s after the stop`;
    },
  };
}

/** Stop Postgres (fast shutdown: sessions killed mid-transaction), keep it down, start it on the same data. */
export function restartPostgres(downMs: number): Fault {
  return {
    name: `postgres down ${downMs / 1000} s`,
    async run({ stack }) {
      const started = Date.now();
      await stack.stopPostgres();
      if (await portOpen(stack.options.postgresPort)) throw new Error('postgres port still open after stop');
      await sleep(downMs);
      await stack.startPostgres();
      await stack.waitAllReady(120_000);
      return `all services ready ${((Date.now() - started) / 1000).toFixed(1)} s after the stop`;
    },
  };
}

/**
 * Scale out to two instances of a consumer (a rebalance moves partitions to the new one), keep both for
 * `holdMs`, then remove the new one: gracefully (SIGTERM) or as a crash (SIGKILL).
 */
export function scaleOutAndIn(service: ServiceName, holdMs: number, removal: 'graceful' | 'kill' = 'graceful'): Fault {
  return {
    name: `${service} 1→2→1 instances (${removal} removal)`,
    async run({ stack }) {
      const instance = `${service}-2`;
      let assigned = false;
      const unsubscribe = stack.onLine((from, line) => {
        if (from === instance && line.includes('partitions assigned') && /"partitions":\[\d/.test(line)) assigned = true;
      });
      try {
        await stack.start(service, instance);
        await waitUntil(`${instance} owns partitions`, () => assigned, 60_000);
      } finally {
        unsubscribe();
      }
      await sleep(holdMs);
      if (removal === 'kill') await stack.kill(instance);
      await stack.remove(instance, 20_000);
      return `${instance} got partitions, then was ${removal === 'kill' ? 'killed' : 'stopped'}`;
    },
  };
}

/** The poison kinds: each must go to the DLQ with its origin, and its partition must keep flowing. */
export function poisonValues(id: string): Array<{ kind: string; value: string }> {
  return [
    { kind: 'invalid JSON', value: `{"eventId":"${id}-json", "amount": 1,` },
    { kind: 'unknown schemaVersion', value: JSON.stringify({ schemaVersion: 99, eventId: `${id}-version`, accountId: 'x', occurredAt: 0, amount: 1 }) },
    { kind: 'missing fields', value: JSON.stringify({ schemaVersion: 1, eventId: `${id}-fields` }) },
  ];
}

/** Produces poison records straight into `events.raw` and `events.enriched`, one per kind, spread over partitions. */
export function injectPoison(topics: { raw: string; enriched: string }): Fault {
  return {
    name: 'poison records',
    async run(ctx) {
      const kafka = createKafkaClient({ brokers: [ctx.stack.brokers], clientId: 'fault-suite-poison', logger: quiet });
      const producer = await kafka.producer();
      const records: OutboundRecord[] = [];
      const planted: PoisonRecord[] = [];
      try {
        for (const topic of [topics.raw, topics.enriched]) {
          for (const [k, { kind }] of poisonValues('').entries()) {
            const id = `${ctx.runId}-poison-${ctx.poison.length + planted.length}`;
            planted.push({ id, topic, kind });
            records.push({ topic, key: `${ctx.runId}-poison`, partition: (ctx.poison.length + planted.length) % ctx.partitions, value: poisonValues(id)[k].value, headers: { [POISON_HEADER]: id } });
          }
        }
        await producer.send(records);
        ctx.poison.push(...planted);
      } finally {
        await producer.disconnect();
      }
      return `${records.length} records (${poisonValues('').map((p) => p.kind).join(', ')}) into ${topics.raw} and ${topics.enriched}`;
    },
  };
}
