/**
 * The four services as separate OS processes (the compiled build), pointed at the test broker and Postgres
 * with their own topics and consumer-group prefix, so each test has an isolated pipeline.
 */
import { PLATFORM_TENANT, Scope, TopicNames } from '@streamguard/common';
import { createApiKeyFor } from '../../tools/local-infra/src/dev-keys';
import { ServiceName, ServiceProcess, startService, waitUntilReady } from '../../tools/local-infra/src/service-process';
import { freePort, testInfra, topicEnv, uniqueName } from './test-infra';

/** `Authorization` header of an API key. */
export type AuthHeaders = { authorization: string };

/** Creates an API key in the test Postgres (as `npm run keys -- create` does) and returns its token. */
export function createApiKey(tenantId: string, scopes: Scope[], limits: { ratePerSecond?: number; burst?: number } = {}): Promise<string> {
  return createApiKeyFor(testInfra().databaseUrl, { tenantId, scopes, name: 'test', ...limits });
}

export const bearer = (token: string): AuthHeaders => ({ authorization: `Bearer ${token}` });

/** A tenant id unique to one test (tenant ids are lower-case). */
export const uniqueTenant = (prefix = 't'): string => uniqueName(prefix).toLowerCase();

export interface StackOptions {
  topics: TopicNames;
  services?: ServiceName[];
  env?: Record<string, string>;
}

export class ServiceStack {
  readonly processes = new Map<string, ServiceProcess>();
  readonly logs: string[] = [];
  readonly groupPrefix = uniqueName('sg');
  /** This stack's own tenant: every test stack is isolated from the others' data by tenant too. */
  readonly tenant = uniqueTenant();
  /** An `ingest`+`read`+`admin` key of {@link tenant}, and a platform admin key; set by {@link start}. */
  auth!: AuthHeaders;
  platformAuth!: AuthHeaders;

  constructor(private readonly options: StackOptions) {}

  async start(): Promise<this> {
    // Generous limits: tests that exercise rate limiting create their own keys.
    this.auth = bearer(await createApiKey(this.tenant, ['ingest', 'read', 'admin'], { ratePerSecond: 1_000_000, burst: 1_000_000 }));
    this.platformAuth = bearer(await createApiKey(PLATFORM_TENANT, ['admin', 'read'], { ratePerSecond: 1_000_000, burst: 1_000_000 }));
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
