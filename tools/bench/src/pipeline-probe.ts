/**
 * What the pipeline is doing, read from outside: end-to-end latency histograms from the services' /metrics
 * (`<service>_end_to_end_latency_seconds`: ingest acceptance, `receivedAt`, to the stage committing the
 * record's result), and consumer lag per stage.
 *
 * Lag: enrich commits its offsets to Kafka (in its transaction), so its lag is the group's Kafka lag;
 * aggregate and alert keep their offsets in Postgres (`consumer_offsets`, the source of truth), so their lag
 * is the topic's end offset minus that.
 */
import { Client } from 'pg';
import { DEFAULT_TOPICS, KafkaAdminPort } from '@streamguard/common';
import { GROUP_PREFIX } from './bench-stack';

export interface Histogram {
  /** Cumulative counts by upper bound (seconds; Infinity last). */
  buckets: Array<[number, number]>;
  count: number;
}

export async function scrapeHistogram(url: string, name: string): Promise<Histogram> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  const buckets: Array<[number, number]> = [];
  // prom-client writes `name_bucket{le="0.1",service="alert"} 42`: `le` among the default labels.
  const pattern = new RegExp(`^${name}_bucket\\{([^}]*)\\} (\\S+)$`, 'gm');
  for (const m of text.matchAll(pattern)) {
    const le = /le="([^"]+)"/.exec(m[1])?.[1];
    if (le !== undefined) buckets.push([le === '+Inf' ? Infinity : Number(le), Number(m[2])]);
  }
  buckets.sort((a, b) => a[0] - b[0]);
  return { buckets, count: buckets.at(-1)?.[1] ?? 0 };
}

export function histogramDelta(after: Histogram, before: Histogram): Histogram {
  const old = new Map(before.buckets);
  const buckets = after.buckets.map(([le, n]) => [le, n - (old.get(le) ?? 0)] as [number, number]);
  return { buckets, count: buckets.at(-1)?.[1] ?? 0 };
}

/**
 * The q-quantile in milliseconds, interpolated linearly inside its bucket (as Prometheus' histogram_quantile).
 * Resolution is the bucket grid (END_TO_END_LATENCY_BUCKETS_SECONDS: 25 ms steps from 50 to 200 ms, then 250, 300, 400, 500, 750 ms, 1 s, …). Beyond the last finite bound: that bound.
 */
export function quantileMs(h: Histogram, q: number): number | null {
  if (h.count === 0) return null;
  const rank = q * h.count;
  let prevBound = 0;
  let prevCount = 0;
  for (const [le, n] of h.buckets) {
    if (n >= rank) {
      if (le === Infinity) return prevBound * 1000;
      const inBucket = n - prevCount;
      const fraction = inBucket === 0 ? 1 : (rank - prevCount) / inBucket;
      return Math.round((prevBound + (le - prevBound) * fraction) * 10_000) / 10;
    }
    prevBound = le;
    prevCount = n;
  }
  return prevBound * 1000;
}

/** Share of observations at or under `boundSeconds` (exact when it is a bucket bound). */
export function shareAtMost(h: Histogram, boundSeconds: number): number | null {
  if (h.count === 0) return null;
  const bucket = h.buckets.find(([le]) => le >= boundSeconds);
  return bucket ? bucket[1] / h.count : 1;
}

export interface StageLag {
  enrich: number;
  aggregate: number;
  alert: number;
}

export class LagProbe {
  private readonly db: Client;
  private connected?: Promise<void>;

  constructor(private readonly admin: KafkaAdminPort, databaseUrl: string) {
    this.db = new Client({ connectionString: databaseUrl });
  }

  async lag(): Promise<StageLag> {
    this.connected ??= this.db.connect().then(() => undefined);
    await this.connected;
    const [enrich, enrichedEnds, rows] = await Promise.all([
      this.admin.consumerLag(`${GROUP_PREFIX}.enrich`, DEFAULT_TOPICS.raw),
      // A group that never committed: "lag" is the whole partition, i.e. its end offset (fresh topics start at 0).
      this.admin.consumerLag(`${GROUP_PREFIX}.none`, DEFAULT_TOPICS.enriched),
      this.db.query<{ group_id: string; partition: number; next_offset: string }>(
        'SELECT group_id, partition, next_offset FROM consumer_offsets WHERE topic = $1', [DEFAULT_TOPICS.enriched]),
    ]);
    const stateful = (service: string) => enrichedEnds.reduce((sum, { partition, lag: end }) => {
      const row = rows.rows.find((r) => r.group_id === `${GROUP_PREFIX}.${service}` && Number(r.partition) === partition);
      const next = row ? Math.max(0, Number(row.next_offset)) : 0;
      // The stages commit past the transaction marker after their last record, so caught up is end == next.
      return sum + Math.max(0, end - next);
    }, 0);
    return { enrich: enrich.reduce((s, p) => s + p.lag, 0), aggregate: stateful('aggregate'), alert: stateful('alert') };
  }

  async close(): Promise<void> {
    if (this.connected) await this.db.end().catch(() => undefined);
  }
}
