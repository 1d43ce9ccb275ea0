/**
 * The small metrics interface shared code depends on (not prom-client directly).
 * Naming scheme: `<service>_<thing>_<unit>`, `_total` for counters, explicit histogram buckets.
 */
export type Labels = Record<string, string | number>;

export interface Counter {
  inc(labels?: Labels, value?: number): void;
}
export interface Gauge {
  set(labels: Labels, value: number): void;
  inc(labels?: Labels, value?: number): void;
  dec(labels?: Labels, value?: number): void;
}
export interface Histogram {
  observe(labels: Labels, value: number): void;
}

export interface Metrics {
  counter(name: string, help: string, labelNames?: readonly string[]): Counter;
  gauge(name: string, help: string, labelNames?: readonly string[]): Gauge;
  histogram(name: string, help: string, buckets: readonly number[], labelNames?: readonly string[]): Histogram;
  /** Prometheus text exposition of everything registered. */
  render(): Promise<string>;
  readonly contentType: string;
}

/** Latency buckets in seconds shared by every latency histogram so dashboards can compare stages. */
export const LATENCY_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;
/**
 * End-to-end latency (ingest acceptance → a stage's commit): finer around the 100–500 ms where the pipeline's
 * targets and alerts live, so p95/p99 read from the histogram are within ±25 ms there, not "somewhere in 250–500".
 */
export const END_TO_END_LATENCY_BUCKETS_SECONDS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.175, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30] as const;
export const BATCH_SIZE_BUCKETS = [1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000] as const;
