import * as prom from 'prom-client';
import { Counter, Gauge, Histogram, Labels, Metrics } from './metrics.port';

/** prom-client behind the Metrics port. One registry per service process, with default Node metrics. */
export class PrometheusMetrics implements Metrics {
  private readonly registry = new prom.Registry();
  private readonly created = new Map<string, unknown>();

  constructor(service: string, defaultLabels: Labels = {}) {
    this.registry.setDefaultLabels({ service, ...stringify(defaultLabels) });
    prom.collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.once(name, () => new prom.Counter({ name, help, labelNames, registers: [this.registry] }), (c) => ({
      inc: (labels = {}, value = 1) => c.inc(stringify(labels), value),
    }));
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.once(name, () => new prom.Gauge({ name, help, labelNames, registers: [this.registry] }), (g) => ({
      set: (labels, value) => g.set(stringify(labels), value),
      inc: (labels = {}, value = 1) => g.inc(stringify(labels), value),
      dec: (labels = {}, value = 1) => g.dec(stringify(labels), value),
    }));
  }

  histogram(name: string, help: string, buckets: readonly number[], labelNames: readonly string[] = []): Histogram {
    return this.once(name, () => new prom.Histogram({ name, help, labelNames, buckets: [...buckets], registers: [this.registry] }), (h) => ({
      observe: (labels, value) => h.observe(stringify(labels), value),
    }));
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  // Asking twice for the same metric returns the same series instead of throwing "already registered".
  private once<M, W>(name: string, create: () => M, wrap: (metric: M) => W): W {
    let wrapped = this.created.get(name) as W | undefined;
    if (!wrapped) {
      wrapped = wrap(create());
      this.created.set(name, wrapped);
    }
    return wrapped;
  }
}

function stringify(labels: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) out[k] = String(v);
  return out;
}
