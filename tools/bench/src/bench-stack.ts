/**
 * The benchmark's own infrastructure: a Kafka broker and an embedded Postgres on their own ports with fresh
 * data under `.streamguard/bench/`, and the services as OS processes (compiled build), all on 127.0.0.1.
 * Like the fault suite's stack, but it also knows every process id (for CPU and memory sampling) and can
 * start an instance with its own environment (the ingest-only phase writes to a topic nobody consumes).
 */
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createKafkaClient, DEFAULT_TOPICS, JsonLogger, KafkaAdminPort, TOPIC_ENV, TopicRole } from '@streamguard/common';
import { RunningPostgres, startEmbeddedPostgres } from '../../local-infra/src/embedded-postgres';
import { KAFKA_VERSION, RunningKafka, startKafkaBroker } from '../../local-infra/src/kafka-broker';
import { streamguardHome } from '../../local-infra/src/paths';
import { createApiKeyFor } from '../../local-infra/src/dev-keys';
import { provision } from '../../local-infra/src/provision';
import { ServiceName, ServiceProcess, startService, waitUntilReady } from '../../local-infra/src/service-process';

export interface BenchPorts {
  kafka: number;
  postgres: number;
  services: Record<ServiceName, number>;
  httpCeiling: number;
}

export const GROUP_PREFIX = 'bench';

export class BenchStack {
  readonly home = join(streamguardHome(), 'bench');
  private kafka?: RunningKafka;
  private postgres?: RunningPostgres;
  private readonly instances = new Map<string, ServiceProcess>();
  private readonly logs = new Map<string, WriteStream>();
  private adminClient?: Promise<KafkaAdminPort>;

  constructor(readonly ports: BenchPorts, readonly partitions: number) {}

  get brokers(): string {
    return `127.0.0.1:${this.ports.kafka}`;
  }

  get databaseUrl(): string {
    if (!this.postgres) throw new Error('Postgres was never started');
    return this.postgres.url;
  }

  /** An `ingest`+`read` key of the `bench` tenant; set by {@link startInfrastructure}. */
  apiKey = '';

  /** The broker's jar folder (also the classpath of Kafka's own producer perf tool). */
  get kafkaLibDir(): string {
    return join(this.home, 'kafka', `lib-${KAFKA_VERSION}`);
  }

  async startInfrastructure(extraTopics: string[]): Promise<void> {
    mkdirSync(join(this.home, 'logs'), { recursive: true });
    this.reuseKafkaJars();
    this.kafka = await startKafkaBroker({ home: this.home, port: this.ports.kafka, controllerPort: this.ports.kafka + 1, fresh: true, heapMb: 1024 });
    this.postgres = await startEmbeddedPostgres({ home: this.home, port: this.ports.postgres, fresh: true });
    await provision({ brokers: [this.brokers], databaseUrl: this.postgres.url, partitions: this.partitions, seed: true });
    // No rate limit for the benchmark's own load: it measures the pipeline, not the limiter.
    this.apiKey = await createApiKeyFor(this.postgres.url, { tenantId: 'bench', scopes: ['ingest', 'read'], ratePerSecond: 1e7, burst: 1e8 });
    const admin = await this.admin();
    await admin.ensureTopics(extraTopics.map((topic) => ({ topic, partitions: this.partitions, replicationFactor: 1 })));
  }

  /** The jars are shared with `npm start`, the tests and the fault suite: link them instead of fetching again. */
  private reuseKafkaJars(): void {
    if (existsSync(this.kafkaLibDir)) return;
    const home = streamguardHome();
    for (const candidate of ['kafka', 'test/kafka', 'faults/kafka'].map((d) => join(home, d, `lib-${KAFKA_VERSION}`))) {
      if (existsSync(join(candidate, '.complete'))) {
        mkdirSync(join(this.home, 'kafka'), { recursive: true });
        symlinkSync(candidate, this.kafkaLibDir);
        return;
      }
    }
  }

  admin(): Promise<KafkaAdminPort> {
    this.adminClient ??= createKafkaClient({ brokers: [this.brokers], clientId: 'streamguard-bench', logger: new JsonLogger('error', { service: 'bench' }) }).admin();
    return this.adminClient;
  }

  private serviceEnv(extra: Record<string, string>): Record<string, string> {
    return {
      KAFKA_BROKERS: this.brokers, DATABASE_URL: this.databaseUrl, KAFKA_GROUP_PREFIX: GROUP_PREFIX, HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn', SHUTDOWN_GRACE_MS: '10000',
      ...Object.fromEntries((Object.keys(DEFAULT_TOPICS) as TopicRole[]).map((role) => [TOPIC_ENV[role], DEFAULT_TOPICS[role]])),
      ...extra,
    };
  }

  async start(service: ServiceName, instance: string = service, env: Record<string, string> = {}): Promise<ServiceProcess> {
    let log = this.logs.get(instance);
    if (!log) {
      log = createWriteStream(join(this.home, 'logs', `${instance}.log`), { flags: 'w' });
      this.logs.set(instance, log);
    }
    const sink = log;
    // BENCH_PROFILE=aggregate,alert: V8 CPU profiles of those services, written when they stop (open them in
    // Chrome DevTools or speedscope). Profiling slows a service by a few per cent.
    const profiled = (process.env.BENCH_PROFILE ?? '').split(',').includes(service);
    const profiling = profiled ? ['--cpu-prof', `--cpu-prof-dir=${join(this.home, 'profiles')}`, `--cpu-prof-name=${instance}-${Date.now()}.cpuprofile`] : [];
    const child = startService(service, this.ports.services[service], this.serviceEnv(env), (line) => sink.write(`${line}\n`), instance, profiling);
    this.instances.set(instance, child);
    await waitUntilReady(child, 90_000);
    return child;
  }

  async stop(instance: string): Promise<void> {
    await this.instances.get(instance)?.stop(10_000);
    this.instances.delete(instance);
  }

  url(instance: string): string {
    const i = this.instances.get(instance);
    if (!i) throw new Error(`no instance ${instance}`);
    return i.url;
  }

  /** Instances that exited without being stopped (a crash under load is a result, not a detail). */
  crashed(): string[] {
    return [...this.instances.values()].filter((i) => i.exited()).map((i) => i.name);
  }

  /** Process ids to sample: each service instance, the broker JVM, and every process of this Postgres. */
  processIds(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const [name, i] of this.instances) if (i.process.pid && !i.exited()) out[name] = [i.process.pid];
    if (this.kafka?.process.pid) out.kafka = [this.kafka.process.pid];
    if (this.postgres) out.postgres = postgresPids(`data-${this.ports.postgres}`);
    return out;
  }

  async teardown(): Promise<void> {
    await Promise.allSettled([...this.instances.values()].map((i) => i.stop(5_000)));
    this.instances.clear();
    const admin = this.adminClient;
    this.adminClient = undefined;
    await admin?.then((a) => a.disconnect()).catch(() => undefined);
    await Promise.allSettled([this.kafka?.stop()]);
    this.kafka = undefined;
    await Promise.allSettled([this.postgres?.stop()]);
    this.postgres = undefined;
    for (const log of this.logs.values()) log.end();
  }
}

/** The postmaster (its command line names the data directory) and its children (backends, writers). */
function postgresPids(dataDirMarker: string): number[] {
  const all = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
  const master = all.find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dataDirMarker);
    } catch {
      return false;
    }
  });
  if (master === undefined) return [];
  return [master, ...all.filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === master;
    } catch {
      return false;
    }
  })];
}
