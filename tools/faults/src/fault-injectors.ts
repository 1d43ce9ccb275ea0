/**
 * The faults, each a small function that breaks one thing while traffic flows, brings it back, and checks
 * that the fault really happened (the process is gone, the port is closed, the new instance got
 * partitions). Whether the pipeline survived it is judged only at the end, by the checker.
 */
import { readFileSync } from 'node:fs';
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

/**
 * Stop the broker — SIGTERM (a clean shutdown) or SIGKILL (none: open transactions and unflushed segments as a
 * power loss leaves them) — keep it down for `downMs`, start it on the same data.
 */
export function restartBroker(downMs: number, how: 'stop' | 'kill' = 'stop'): Fault {
  return {
    name: how === 'kill' ? `broker SIGKILL, down ${downMs / 1000} s` : `broker down ${downMs / 1000} s`,
    async run({ stack }) {
      const started = Date.now();
      await (how === 'kill' ? stack.killBroker() : stack.stopBroker());
      if (await portOpen(stack.options.kafkaPort)) throw new Error('broker port still open after stop');
      await sleep(downMs);
      await stack.startBroker();
      // A killed broker recovers its logs first.
      await stack.waitAllReady(how === 'kill' ? 180_000 : 120_000);
      return `all services ready ${((Date.now() - started) / 1000).toFixed(1)} s after the ${how}`;
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

/** Frozen for `ms`, then thawed even if the wait fails. */
async function frozen(freeze: () => void, thaw: () => void, ms: number): Promise<void> {
  freeze();
  try {
    await sleep(ms);
  } finally {
    thaw();
  }
}

/**
 * SIGSTOP one instance for `pausedMs` (a long GC pause, a node under memory pressure, a debugger), then SIGCONT.
 * Past the session timeout (10 s) its group takes its partitions away, and it comes back as a zombie that must
 * find out and rejoin; below it, everything downstream just waits.
 */
export function pauseService(instance: ServiceName, pausedMs: number): Fault {
  return {
    name: `${instance} frozen ${pausedMs / 1000} s`,
    async run({ stack }) {
      await frozen(() => stack.signal(instance, 'SIGSTOP'), () => stack.signal(instance, 'SIGCONT'), pausedMs);
      const thawed = Date.now();
      await stack.waitAllReady(120_000);
      return `frozen ${pausedMs / 1000} s; all ready ${((Date.now() - thawed) / 1000).toFixed(1)} s after the thaw`;
    },
  };
}

/**
 * A zombie: a second instance joins, the first is frozen past the session timeout while the second takes all
 * its partitions over, then the first is thawed — still believing it owns partitions, with batches and
 * transactions half done — and the second is removed. Fencing must make every write of the zombie fail.
 */
export function zombie(service: ServiceName, frozenMs = 25_000): Fault {
  return {
    name: `${service} zombie (frozen ${frozenMs / 1000} s while a second instance takes over)`,
    async run({ stack }) {
      const second = `${service}-2`;
      let frozenSince: number | undefined;
      let tookOverAfterMs: number | undefined;
      const unsubscribe = stack.onLine((from, line) => {
        // The survivor's rebalance after the session timeout: it is assigned partitions while the first is frozen.
        if (from === second && frozenSince !== undefined && line.includes('partitions assigned') && /"partitions":\[\d/.test(line)) tookOverAfterMs ??= Date.now() - frozenSince;
      });
      try {
        await stack.start(service, second);
        stack.signal(service, 'SIGSTOP');
        frozenSince = Date.now();
        try {
          await waitUntil(`${second} takes the frozen instance's partitions`, () => tookOverAfterMs !== undefined, 60_000);
          await sleep(Math.max(0, frozenMs - (Date.now() - frozenSince)));
        } finally {
          stack.signal(service, 'SIGCONT');
        }
      } finally {
        unsubscribe();
      }
      await sleep(5_000); // the zombie's half-done work runs into the fence
      await stack.remove(second, 20_000);
      await stack.waitAllReady(120_000);
      return `${second} took over ${((tookOverAfterMs ?? 0) / 1000).toFixed(1)} s into the freeze; the zombie was thawed, then ${second} removed`;
    },
  };
}

/** SIGSTOP the broker for `pausedMs`: connections stay open and nothing answers (no clean error to react to). */
export function pauseBroker(pausedMs: number): Fault {
  return {
    name: `broker frozen ${pausedMs / 1000} s`,
    async run({ stack }) {
      await frozen(() => stack.signalBroker('SIGSTOP'), () => stack.signalBroker('SIGCONT'), pausedMs);
      const thawed = Date.now();
      await stack.waitAllReady(120_000);
      return `all ready ${((Date.now() - thawed) / 1000).toFixed(1)} s after the thaw`;
    },
  };
}

/** Postgres read-only for `ms` (writes fail with 25006 in every session, reads go on), then writable again. */
export function postgresReadOnly(ms: number): Fault {
  return {
    name: `postgres read-only ${ms / 1000} s`,
    async run({ stack }) {
      await stack.setPostgresReadOnly(true);
      try {
        await sleep(ms);
      } finally {
        await stack.setPostgresReadOnly(false);
      }
      const writable = Date.now();
      await stack.waitAllReady(120_000);
      return `all ready ${((Date.now() - writable) / 1000).toFixed(1)} s after writes were allowed again`;
    },
  };
}

/** A rebalance storm: `cycles` times, a second instance joins and leaves again `everyMs` later (graceful). */
export function rebalanceStorm(service: ServiceName, cycles: number, everyMs: number): Fault {
  return {
    name: `${service} rebalance storm (${cycles} joins and leaves, ${everyMs / 1000} s apart)`,
    async run({ stack }) {
      const instance = `${service}-storm`;
      for (let i = 0; i < cycles; i++) {
        await stack.start(service, instance);
        await sleep(everyMs);
        await stack.remove(instance, 20_000);
        await sleep(everyMs);
      }
      await stack.waitAllReady(120_000);
      return `${cycles} cycles`;
    },
  };
}

/**
 * Kafka unavailable for `downMs` while clients keep sending: ingest must answer 503 (never 202 for what it could
 * not write) and its memory must stay bounded (INGEST_MAX_IN_FLIGHT_EVENTS). Fails when ingest's RSS grew by
 * more than `maxRssGrowthMb` over the outage.
 */
export function kafkaDownAtIngest(downMs: number, maxRssGrowthMb: number): Fault {
  return {
    name: `Kafka down ${downMs / 1000} s under ingest traffic`,
    async run({ stack }) {
      const rssMb = () => {
        const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${stack.pidOf('ingest')}/status`, 'utf8'));
        return match ? Number(match[1]) / 1024 : NaN;
      };
      const before = rssMb();
      let peak = before;
      await stack.stopBroker();
      const until = Date.now() + downMs;
      while (Date.now() < until) {
        peak = Math.max(peak, rssMb());
        await sleep(1_000);
      }
      await stack.startBroker();
      await stack.waitAllReady(180_000);
      const growth = peak - before;
      if (!(growth <= maxRssGrowthMb)) throw new Error(`ingest RSS grew ${growth.toFixed(0)} MB (from ${before.toFixed(0)} MB) while Kafka was down; at most ${maxRssGrowthMb} MB expected`);
      return `ingest RSS ${before.toFixed(0)} → peak ${peak.toFixed(0)} MB`;
    },
  };
}

/**
 * A network fault between one service and the broker or Postgres, through its TCP proxy (FaultStackOptions.proxied):
 * a partition (nothing passes, connections hang) or added latency each way, for `durationMs`.
 */
export function networkFault(service: ServiceName, target: 'kafka' | 'postgres', fault: 'partition' | { latencyMs: number }, durationMs: number): Fault {
  const what = fault === 'partition' ? 'partitioned from' : `${fault.latencyMs} ms latency to`;
  return {
    name: `${service} ${what} ${target === 'kafka' ? 'the broker' : 'Postgres'} for ${durationMs / 1000} s`,
    async run({ stack }) {
      const proxy = stack.proxiesOf(service)[target];
      if (fault === 'partition') proxy.partition();
      else proxy.latencyMs = fault.latencyMs;
      try {
        await sleep(durationMs);
      } finally {
        proxy.latencyMs = 0;
        proxy.heal();
      }
      const healed = Date.now();
      await stack.waitAllReady(120_000);
      return `all ready ${((Date.now() - healed) / 1000).toFixed(1)} s after the network healed`;
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
