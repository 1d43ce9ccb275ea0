/**
 * The suite's own infrastructure, which it may break: a Kafka broker and an embedded Postgres on their own
 * ports with fresh data under `.streamguard/faults/`, and the four services as OS processes (compiled
 * build). Everything listens on 127.0.0.1. `teardown()` stops all of it and is safe to call at any time.
 */
import { createWriteStream, existsSync, mkdirSync, symlinkSync, WriteStream } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { TcpProxy } from './tcp-proxy';
import { DEFAULT_TOPICS, TOPIC_ENV, TopicRole } from '@streamguard/common';
import { RunningPostgres, startEmbeddedPostgres } from '../../local-infra/src/embedded-postgres';
import { KAFKA_VERSION, RunningKafka, startKafkaBroker } from '../../local-infra/src/kafka-broker';
import { streamguardHome } from '../../local-infra/src/paths';
import { createApiKeyFor } from '../../local-infra/src/dev-keys';
import { provision } from '../../local-infra/src/provision';

/** The tenant of the fault suite's traffic. */
export const FAULT_TENANT = 'faults';
import { ServiceName, ServiceProcess, startService, waitUntilReady } from '../../local-infra/src/service-process';

export interface FaultStackOptions {
  kafkaPort: number;
  postgresPort: number;
  partitions: number;
  groupPrefix: string;
  /** Extra service environment (window definitions, timeouts). */
  env: Record<string, string>;
  /** Services that reach the broker and Postgres through their own TCP proxies (network faults). */
  proxied?: ServiceName[];
}

/** One proxied service's two proxies. */
export interface ServiceProxies {
  kafka: TcpProxy;
  postgres: TcpProxy;
}

interface Instance {
  service: ServiceName;
  port: number;
  process: ServiceProcess;
  /** Set when the suite itself kills or stops it; any other exit is a crash. */
  exitExpected: boolean;
}

/** A service process that exited without the suite killing or stopping it. */
export interface Crash {
  instance: string;
  at: number;
  exit: string;
  /** The most telling log line (an uncaught error), else the last one. */
  cause: string;
}

export class FaultStack {
  readonly home = join(streamguardHome(), 'faults');
  private kafka?: RunningKafka;
  private postgres?: RunningPostgres;
  private postgresUrl?: string;
  private readonly instances = new Map<string, Instance>();
  private readonly logs = new Map<string, WriteStream>();
  private readonly tails = new Map<string, string[]>();
  private readonly lineListeners = new Set<(instance: string, line: string) => void>();
  private nextExtraPort: number;
  readonly crashes: Crash[] = [];

  /** Per proxied service: the proxies between it and the broker and Postgres. */
  readonly proxies = new Map<ServiceName, ServiceProxies>();

  constructor(readonly options: FaultStackOptions) {
    this.nextExtraPort = options.kafkaPort - 29092 + 28090;
    // Ports: broker listener kafkaPort + 2 + k, advertised (its proxy) kafkaPort + 102 + k; Postgres proxy postgresPort + 100 + k.
    (options.proxied ?? []).forEach((service, k) => this.proxies.set(service, {
      kafka: new TcpProxy(options.kafkaPort + 102 + k, options.kafkaPort + 2 + k),
      postgres: new TcpProxy(options.postgresPort + 100 + k, options.postgresPort),
    }));
  }

  /** The broker's extra listener per proxied service, advertised at its proxy. */
  private get extraListeners(): Array<{ name: string; port: number; advertisedPort: number }> {
    return [...this.proxies].map(([service, p]) => ({ name: `PROXY_${service.toUpperCase()}`, port: p.kafka.targetPort, advertisedPort: p.kafka.listenPort }));
  }

  proxiesOf(service: ServiceName): ServiceProxies {
    const p = this.proxies.get(service);
    if (!p) throw new Error(`${service} is not behind proxies (FaultStackOptions.proxied)`);
    return p;
  }

  get brokers(): string {
    return `127.0.0.1:${this.options.kafkaPort}`;
  }

  get databaseUrl(): string {
    if (!this.postgresUrl) throw new Error('Postgres was never started');
    return this.postgresUrl;
  }

  groupId(service: ServiceName): string {
    return `${this.options.groupPrefix}.${service}`;
  }

  url(instance: string): string {
    return this.get(instance).process.url;
  }

  instanceNames(): string[] {
    return [...this.instances.keys()];
  }

  async startInfrastructure(): Promise<void> {
    mkdirSync(join(this.home, 'logs'), { recursive: true });
    this.reuseKafkaJars();
    this.kafka = await startKafkaBroker({ home: this.home, port: this.options.kafkaPort, controllerPort: this.options.kafkaPort + 1, fresh: true, heapMb: 768, extraListeners: this.extraListeners });
    this.postgres = await startEmbeddedPostgres({ home: this.home, port: this.options.postgresPort, fresh: true });
    for (const p of this.proxies.values()) await Promise.all([p.kafka.start(), p.postgres.start()]);
    this.postgresUrl = this.postgres.url;
    await provision({ brokers: [this.brokers], databaseUrl: this.postgres.url, partitions: this.options.partitions, seed: true });
    // Unlimited for the suite's own traffic: the fault suite measures recovery, not rate limiting.
    this.ingestApiKey = await createApiKeyFor(this.postgres.url, { tenantId: FAULT_TENANT, scopes: ['ingest', 'read'], ratePerSecond: 1e7, burst: 1e8 });
  }

  /** The suite's `ingest`+`read` key (tenant {@link FAULT_TENANT}); set by {@link startInfrastructure}. */
  ingestApiKey = '';

  /** The broker's jars are shared with `npm start` and the tests: link them instead of fetching again. */
  private reuseKafkaJars(): void {
    const target = join(this.home, 'kafka', `lib-${KAFKA_VERSION}`);
    if (existsSync(target)) return;
    for (const candidate of [join(streamguardHome(), 'kafka', `lib-${KAFKA_VERSION}`), join(streamguardHome(), 'test', 'kafka', `lib-${KAFKA_VERSION}`)]) {
      if (existsSync(join(candidate, '.complete'))) {
        mkdirSync(join(this.home, 'kafka'), { recursive: true });
        symlinkSync(candidate, target);
        return;
      }
    }
  }

  private serviceEnv(service: ServiceName): Record<string, string> {
    const proxies = this.proxies.get(service);
    const databaseUrl = new URL(this.databaseUrl);
    if (proxies) databaseUrl.port = String(proxies.postgres.listenPort);
    return {
      KAFKA_BROKERS: proxies ? `127.0.0.1:${proxies.kafka.listenPort}` : this.brokers, DATABASE_URL: databaseUrl.toString(),
      KAFKA_GROUP_PREFIX: this.options.groupPrefix, HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'info', ...Object.fromEntries((Object.keys(DEFAULT_TOPICS) as TopicRole[]).map((role) => [TOPIC_ENV[role], DEFAULT_TOPICS[role]])),
      ...this.options.env,
    };
  }

  /** Starts (or restarts, same port and environment) one instance; resolves when it is ready. */
  async start(service: ServiceName, instance: string = service, port?: number, readyTimeoutMs = 90_000): Promise<ServiceProcess> {
    const existing = this.instances.get(instance);
    const chosen = port ?? existing?.port ?? this.nextExtraPort++;
    let log = this.logs.get(instance);
    if (!log) {
      log = createWriteStream(join(this.home, 'logs', `${instance}.log`), { flags: 'w' });
      this.logs.set(instance, log);
    }
    const sink = log;
    const tail = this.tails.get(instance) ?? [];
    this.tails.set(instance, tail);
    const process = startService(service, chosen, this.serviceEnv(service), (line) => {
      sink.write(`${line}\n`);
      tail.push(line);
      if (tail.length > 200) tail.splice(0, 100);
      for (const listener of this.lineListeners) listener(instance, line);
    }, instance);
    const entry: Instance = { service, port: chosen, process, exitExpected: false };
    this.instances.set(instance, entry);
    process.process.once('exit', (code, signal) => {
      if (entry.exitExpected) return;
      const lines = tail.slice(-60);
      const at = lines.findIndex((l) => /^\s*(\w*Error|error): /.test(l));
      const cause = at >= 0 ? `${lines[at].trim()} ${lines[at + 1]?.trim() ?? ''}` : lines[lines.length - 1] ?? '';
      this.crashes.push({ instance, at: Date.now(), exit: signal ?? `code ${code}`, cause: cause.slice(0, 240) });
    });
    await waitUntilReady(process, readyTimeoutMs);
    return process;
  }

  /** Calls `listener` with every log line of every instance until the returned function is called. */
  onLine(listener: (instance: string, line: string) => void): () => void {
    this.lineListeners.add(listener);
    return () => this.lineListeners.delete(listener);
  }

  private get(instance: string): Instance {
    const i = this.instances.get(instance);
    if (!i) throw new Error(`no instance ${instance}`);
    return i;
  }

  /** SIGKILL: a crash. The instance stays registered so `start` can bring it back on the same port. */
  async kill(instance: string): Promise<void> {
    const i = this.get(instance);
    i.exitExpected = true;
    await i.process.kill();
  }

  /** SIGTERM and wait (graceful), then forget the instance. */
  async remove(instance: string, graceMs = 20_000): Promise<void> {
    const i = this.get(instance);
    i.exitExpected = true;
    await i.process.stop(graceMs);
    this.instances.delete(instance);
  }

  /** SIGSTOP / SIGCONT one instance: frozen, it holds its connections and partitions but answers nothing. */
  signal(instance: string, signal: 'SIGSTOP' | 'SIGCONT'): void {
    process.kill(this.pidOf(instance), signal);
  }

  pidOf(instance: string): number {
    const pid = this.get(instance).process.process.pid;
    if (pid === undefined) throw new Error(`${instance} has no process`);
    return pid;
  }

  /** SIGSTOP / SIGCONT the broker (a frozen JVM: a long GC pause, a stalled disk). */
  signalBroker(signal: 'SIGSTOP' | 'SIGCONT'): void {
    const pid = this.kafka?.process.pid;
    if (pid === undefined) throw new Error('the broker is not running');
    process.kill(pid, signal);
  }

  /** SIGKILL the broker (no clean shutdown: open transactions and unflushed segments as a power loss leaves them). */
  async killBroker(): Promise<void> {
    const child = this.kafka?.process;
    this.kafka = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  /**
   * Postgres read-only (`default_transaction_read_only`, applied to every session at once by a reload): writes
   * fail with SQLSTATE 25006 while reads go on, as during a failover to a replica or a full disk.
   */
  async setPostgresReadOnly(readOnly: boolean): Promise<void> {
    if (!this.postgres) throw new Error('Postgres is not running');
    const client = new Client({ connectionString: this.postgres.adminUrl });
    await client.connect();
    try {
      await client.query('SET default_transaction_read_only = off');
      await client.query(readOnly ? 'ALTER SYSTEM SET default_transaction_read_only = on' : 'ALTER SYSTEM RESET default_transaction_read_only');
      await client.query('SELECT pg_reload_conf()');
    } finally {
      await client.end();
    }
  }

  async stopBroker(): Promise<void> {
    await this.kafka?.stop();
    this.kafka = undefined;
  }

  /** Same port, same data (not fresh). */
  async startBroker(): Promise<void> {
    this.kafka = await startKafkaBroker({ home: this.home, port: this.options.kafkaPort, controllerPort: this.options.kafkaPort + 1, fresh: false, heapMb: 768, extraListeners: this.extraListeners });
  }

  async stopPostgres(): Promise<void> {
    await this.postgres?.stop();
    this.postgres = undefined;
  }

  async startPostgres(): Promise<void> {
    this.postgres = await startEmbeddedPostgres({ home: this.home, port: this.options.postgresPort, fresh: false });
  }

  /**
   * Every instance answers /readyz (connected to Kafka and, where used, Postgres). An instance that crashed
   * on its own is restarted, as an orchestrator would, and stays recorded in `crashes`.
   */
  async waitAllReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.reviveCrashed();
      const ready = await Promise.all([...this.instances.values()].map(async (i) =>
        !i.process.exited() && (await fetch(`${i.process.url}/readyz`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false))));
      if (ready.every(Boolean)) return;
      if (Date.now() > deadline) {
        const names = [...this.instances.keys()].filter((_, k) => !ready[k]);
        throw new Error(`not ready within ${Math.round(timeoutMs / 1000)} s: ${names.join(', ')}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Restarts (without waiting) every instance that exited without being killed or stopped by the suite. */
  reviveCrashed(): string[] {
    const revived: string[] = [];
    for (const [name, i] of this.instances) {
      if (!i.process.exited() || i.exitExpected) continue;
      void this.start(i.service, name, i.port).catch(() => undefined);
      revived.push(name);
    }
    return revived;
  }

  /** Last log lines of one instance, for failure messages. */
  tail(instance: string, lines = 20): string[] {
    return (this.tails.get(instance) ?? []).slice(-lines);
  }

  async teardown(): Promise<void> {
    // A frozen process acts on SIGTERM only once thawed (an aborted run may leave one frozen).
    for (const name of this.instances.keys()) try { this.signal(name, 'SIGCONT'); } catch { /* already gone */ }
    try { this.signalBroker('SIGCONT'); } catch { /* not running */ }
    for (const i of this.instances.values()) i.exitExpected = true;
    await Promise.allSettled([...this.instances.values()].map((i) => i.process.stop(5_000)));
    this.instances.clear();
    for (const p of this.proxies.values()) p.kafka.heal();
    await Promise.allSettled([this.kafka?.stop()]);
    this.kafka = undefined;
    await Promise.allSettled([...this.proxies.values()].flatMap((p) => [p.kafka.stop(), p.postgres.stop()]));
    await Promise.allSettled([this.postgres?.stop()]);
    this.postgres = undefined;
    for (const log of this.logs.values()) log.end();
  }
}
