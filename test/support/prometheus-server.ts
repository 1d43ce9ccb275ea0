/**
 * A real Prometheus server (the Debian `prometheus` package's binary) as a child process on 127.0.0.1, with a
 * generated config and a temporary TSDB, for tests that check dashboards and alert rules against real
 * scrapes. k8s/ci/validate.sh installs the package in CI; locally: `apt-get install -y prometheus`.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { stopProcess } from '../../tools/local-infra/src/kafka-broker';
import { freePort } from './test-infra';
import { waitFor } from './wait-for';

export interface ScrapeTarget {
  /** host:port serving /metrics. */
  address: string;
  /** Target labels (what service discovery + relabelling would attach). */
  labels: Record<string, string>;
}

export interface PrometheusOptions {
  targets: ScrapeTarget[];
  scrapeIntervalSeconds?: number;
  /** Rule files to load (evaluated every scrape interval). */
  ruleFiles?: string[];
  /** `honor_labels` of the scrape job (the chart's ServiceMonitor sets honorLabels: true). */
  honorLabels?: boolean;
}

export interface PromResult {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: Array<{ metric: Record<string, string>; value?: [number, string] }> };
}

export class PrometheusServer {
  private child?: ChildProcess;
  private dir?: string;
  readonly logs: string[] = [];
  url = '';

  constructor(private readonly options: PrometheusOptions) {}

  async start(): Promise<this> {
    const binary = spawnSync('prometheus', ['--version'], { encoding: 'utf8' });
    if (binary.error || binary.status !== 0) {
      throw new Error('`prometheus` is not on PATH: run k8s/ci/validate.sh (installs it) or `apt-get install -y prometheus` (Debian package).');
    }
    this.dir = mkdtempSync(join(tmpdir(), 'sg-prometheus-'));
    const interval = `${this.options.scrapeIntervalSeconds ?? 1}s`;
    // JSON is valid YAML: no YAML library needed.
    const config = {
      global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
      rule_files: this.options.ruleFiles ?? [],
      scrape_configs: [{
        job_name: 'streamguard', metrics_path: '/metrics', honor_labels: this.options.honorLabels ?? false,
        static_configs: this.options.targets.map((t) => ({ targets: [t.address], labels: t.labels })),
      }],
    };
    writeFileSync(join(this.dir, 'prometheus.yml'), JSON.stringify(config, null, 2));
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    this.child = spawn('prometheus', [
      `--config.file=${join(this.dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(this.dir, 'data')}`,
      '--storage.tsdb.retention.time=1h', `--web.listen-address=127.0.0.1:${port}`,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        this.logs.push(line);
        if (this.logs.length > 500) this.logs.splice(0, 100);
      });
    }
    await waitFor('Prometheus /-/ready', async () => {
      if (this.child!.exitCode !== null) throw new Error(`prometheus exited (${this.child!.exitCode}): ${this.logs.slice(-5).join('\n')}`);
      return (await fetch(`${this.url}/-/ready`)).ok;
    }, 30_000, 100);
    return this;
  }

  /** Instant query at the server's "now". Never throws for PromQL errors: they come back as status error. */
  async query(expr: string): Promise<PromResult> {
    const response = await fetch(`${this.url}/api/v1/query`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ query: expr }),
    });
    return (await response.json()) as PromResult;
  }

  async targets(): Promise<Array<{ scrapeUrl: string; health: string; lastError: string; labels: Record<string, string> }>> {
    const body = (await (await fetch(`${this.url}/api/v1/targets?state=active`)).json()) as {
      data: { activeTargets: Array<{ scrapeUrl: string; health: string; lastError: string; labels: Record<string, string> }> };
    };
    return body.data.activeTargets;
  }

  async rules(): Promise<Array<{ name: string; health: string; lastError?: string; query: string }>> {
    const body = (await (await fetch(`${this.url}/api/v1/rules`)).json()) as {
      data: { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string; query: string }> }> };
    };
    return body.data.groups.flatMap((g) => g.rules);
  }

  async stop(): Promise<void> {
    if (this.child) await stopProcess(this.child, 10_000);
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}
