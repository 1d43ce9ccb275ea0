/** Runs one Streamguard service as its own OS process (compiled build), for `npm start` and end-to-end tests. */
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from './paths';
import { stopProcess } from './kafka-broker';
import { StartupFailure, waitFor } from './progress';

export type ServiceName = 'ingest' | 'enrich' | 'aggregate' | 'alert';
export const SERVICES: ServiceName[] = ['ingest', 'enrich', 'aggregate', 'alert'];
export const DEFAULT_PORTS: Record<ServiceName, number> = { ingest: 8080, enrich: 8081, aggregate: 8082, alert: 8083 };
export const PORT_ENV: Record<ServiceName, string> = { ingest: 'INGEST_PORT', enrich: 'ENRICH_PORT', aggregate: 'AGGREGATE_PORT', alert: 'ALERT_PORT' };

export interface ServiceProcess {
  name: string;
  url: string;
  process: ChildProcess;
  /** SIGTERM and wait (graceful shutdown). */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
  exited(): boolean;
}

export function startService(
  service: ServiceName, port: number, env: NodeJS.ProcessEnv, onLine: (line: string) => void, instance: string = service, nodeArgs: string[] = [],
): ServiceProcess {
  const child = spawn(process.execPath, [...nodeArgs, join(REPO_ROOT, 'dist', 'apps', service, 'src', 'main.js')], {
    env: { ...process.env, ...env, [PORT_ENV[service]]: String(port), INSTANCE_ID: instance, NODE_ENV: env.NODE_ENV ?? 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  return {
    name: instance,
    url: `http://127.0.0.1:${port}`,
    process: child,
    stop: (graceMs = 30_000) => stopProcess(child, graceMs),
    kill: () => new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    }),
    exited: () => child.exitCode !== null || child.signalCode !== null,
  };
}

export async function waitUntilReady(service: ServiceProcess, timeoutMs = 60_000): Promise<void> {
  await waitFor(`${service.name} (${service.url}/readyz)`, async () => {
    if (service.exited()) throw new StartupFailure(`${service.name} exited during start-up (code ${service.process.exitCode})`);
    // Bounded: a service whose event loop is stuck accepts the connection and never answers.
    const response = await fetch(`${service.url}/readyz`, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
    return response?.ok ?? false;
  }, timeoutMs, 250);
}
