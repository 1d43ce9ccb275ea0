/** HTTP load with autocannon (programmatic, 127.0.0.1 only, bounded duration). */
import type { IncomingHttpHeaders } from 'node:http';

interface AutocannonResult {
  duration: number;
  latency: { p50: number; p90: number; p99: number; average: number; max: number };
  requests: { total: number; average: number };
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
}
interface AutocannonRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body?: string;
  setupRequest?: (request: AutocannonRequest) => AutocannonRequest;
}
interface AutocannonOptions {
  url: string;
  connections: number;
  duration: number;
  overallRate?: number;
  timeout: number;
  requests: AutocannonRequest[];
}
interface AutocannonInstance {
  stop(): void;
}
type Autocannon = (options: AutocannonOptions, done: (error: Error | null, result: AutocannonResult) => void) => AutocannonInstance;

// autocannon ships no type declarations; the few fields used here are declared above.
const autocannon = require('autocannon') as Autocannon;

export interface LoadOptions {
  url: string;
  connections: number;
  durationS: number;
  eventsPerRequest: number;
  /** A fixed body, or a function called for every request. */
  body: string | (() => string);
  /** Requests per second over all connections (omit: as fast as possible). */
  requestsPerSecond?: number;
  /** Sent as `Authorization: Bearer …` (the ingest service needs one; the bare HTTP ceiling ignores it). */
  apiKey?: string;
}

export interface LoadResult {
  durationS: number;
  requests: number;
  requestsPerSecond: number;
  eventsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; mean: number; max: number };
  /** Requests answered with anything but 2xx, plus connection errors and timeouts. */
  failed: number;
}

const running = new Set<AutocannonInstance>();

/** Stops every load in progress (Ctrl-C, deadline). */
export function stopAllLoad(): void {
  for (const instance of running) instance.stop();
}

export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { body } = options;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  const base: AutocannonRequest = { method: 'POST', path: '/v1/events', headers };
  const request: AutocannonRequest = typeof body === 'string' ? { ...base, body } : { ...base, setupRequest: (r) => ({ ...r, body: body() }) };
  return new Promise((resolve, reject) => {
    const instance = autocannon({
      url: options.url, connections: options.connections, duration: options.durationS, timeout: 10,
      overallRate: options.requestsPerSecond, requests: [request],
    }, (error, result) => {
      running.delete(instance);
      if (error) return reject(error);
      const ok = result['2xx'];
      resolve({
        durationS: result.duration,
        requests: result.requests.total,
        requestsPerSecond: Math.round(ok / result.duration),
        eventsPerSecond: Math.round((ok * options.eventsPerRequest) / result.duration),
        latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, mean: Math.round(result.latency.average * 100) / 100, max: result.latency.max },
        failed: result.non2xx + result.errors, // errors include timeouts
      });
    });
    running.add(instance);
  });
}
