/**
 * The four services as separate OS processes (the compiled build), pointed at the test broker and Postgres
 * with their own topics and consumer-group prefix, so each test has an isolated pipeline.
 */
import type { TopicNames } from '@streamguard/common';
import { ServiceName, ServiceProcess, startService, waitUntilReady } from '../../tools/local-infra/src/service-process';
import { freePort, testInfra, topicEnv, uniqueName } from './test-infra';

export interface StackOptions {
  topics: TopicNames;
  services?: ServiceName[];
  env?: Record<string, string>;
}

export class ServiceStack {
  readonly processes = new Map<string, ServiceProcess>();
  readonly logs: string[] = [];
  readonly groupPrefix = uniqueName('sg');

  constructor(private readonly options: StackOptions) {}

  async start(): Promise<this> {
    for (const name of this.options.services ?? ['ingest', 'enrich', 'aggregate', 'alert']) await this.add(name, name);
    await Promise.all([...this.processes.values()].map((p) => waitUntilReady(p, 60_000)));
    return this;
  }

  /** Starts another instance (e.g. a second aggregate), ready when this resolves. */
  async add(service: ServiceName, instance: string, extraEnv: Record<string, string> = {}): Promise<ServiceProcess> {
    const { brokers, databaseUrl } = testInfra();
    const port = await freePort();
    const process = startService(service, port, {
      KAFKA_BROKERS: brokers, DATABASE_URL: databaseUrl, KAFKA_GROUP_PREFIX: this.groupPrefix, LOG_LEVEL: 'info',
      SHUTDOWN_GRACE_MS: '15000', ...topicEnv(this.options.topics), ...this.options.env, ...extraEnv,
    }, (line) => {
      this.logs.push(`[${instance}] ${line}`);
      if (this.logs.length > 5000) this.logs.splice(0, 1000);
    }, instance);
    this.processes.set(instance, process);
    return process;
  }

  get(instance: string): ServiceProcess {
    const p = this.processes.get(instance);
    if (!p) throw new Error(`no instance ${instance}`);
    return p;
  }

  url(instance: string): string {
    return this.get(instance).url;
  }

  groupId(service: ServiceName): string {
    return `${this.groupPrefix}.${service}`;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.processes.values()].map((p) => p.stop(20_000)));
  }

  /** The last log lines, for failure messages. */
  tail(lines = 60): string {
    return this.logs.slice(-lines).join('\n');
  }
}
