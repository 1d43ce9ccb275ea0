/**
 * In-band processing time: how far every writer of one input partition has got, learnt only from the progress
 * markers those writers put into the partition (Flink's in-band watermarks, carrying ingest time instead of
 * event time). Nothing here reads a clock, so a stage that was paused, or a replay a day later, derives exactly
 * the same progress from the same records.
 *
 * A marker `{ source, time }` promises: every record `source` writes to this partition after the marker has an
 * ingest time (`receivedAt`) of at least `time`. The partition's progress is the minimum over its sources, so
 * it promises the same for every record still to come in the partition, whoever writes it.
 *
 * Two kinds of source families:
 * - **fixed** (`of` = N on every marker): the N partitions of an upstream topic, each forwarded by the stage
 *   that reads it (enrich forwards `events.raw` partitions, the shuffle `events.enriched` partitions). Progress
 *   is unknown until all N have been heard from; it is then the minimum of their latest times.
 * - **open** (no `of`): ingest instances, which come and go. An instance leaves with a `final` marker; one that
 *   vanished without it is forgotten once the newest marker is `sourceTimeoutMs` ahead of its last one. Because
 *   an instance may exist that has not been heard from yet, progress is unknown until the markers seen span
 *   `sourceTimeoutMs` (every live instance marks far more often than that) — unless the reader started at the
 *   partition's log start, so it has read every marker ever written there (`wholeLog`).
 */
export interface ProgressMarker {
  /** Who promises: an ingest instance, or `<topic>/<partition>` of the upstream partition a stage forwards. */
  source: string;
  /** Ingest time (epoch ms): nothing `source` writes after this marker was accepted before it. */
  time: number;
  /** Size of a fixed source family (the upstream topic's partition count); absent for ingest instances. */
  of?: number;
  /** The source writes nothing more (an ingest instance shutting down cleanly). */
  final?: boolean;
}

/** JSON form, persisted with an operator's state so a restored partition resumes with the same progress. */
export interface SourceProgressState {
  /** Latest marker time per source. */
  times: Record<string, number>;
  /** Fixed family size; null for an open family (or before any marker). */
  of: number | null;
  /** Open family: the oldest marker time seen, for the warm-up span. */
  firstSeen: number | null;
  /** Open family: every marker ever written to the partition was read (from the log start), so no warm-up. */
  wholeLog?: boolean;
}

export const emptySourceProgress = (): SourceProgressState => ({ times: {}, of: null, firstSeen: null });

/** Throws a RangeError for anything that is not a usable marker (callers dead-letter the record). */
export function checkProgressMarker(value: unknown): ProgressMarker {
  const m = value as Partial<ProgressMarker> | null;
  if (typeof m !== 'object' || m === null) throw new RangeError('progress marker is not an object');
  if (typeof m.source !== 'string' || m.source === '' || m.source.length > 256) throw new RangeError('progress marker source must be a string of 1-256 characters');
  if (typeof m.time !== 'number' || !Number.isSafeInteger(m.time) || m.time < 0) throw new RangeError('progress marker time must be a non-negative integer (epoch ms)');
  if (m.of !== undefined && (typeof m.of !== 'number' || !Number.isSafeInteger(m.of) || m.of < 1 || m.of > 100_000)) throw new RangeError('progress marker of must be an integer 1-100000 when present');
  if (m.final !== undefined && typeof m.final !== 'boolean') throw new RangeError('progress marker final must be a boolean when present');
  return { source: m.source, time: m.time, ...(m.of === undefined ? {} : { of: m.of }), ...(m.final ? { final: true } : {}) };
}

export class SourceProgress {
  private state: SourceProgressState;

  constructor(private readonly sourceTimeoutMs: number, state?: SourceProgressState) {
    this.state = state ? { ...state, times: { ...state.times } } : emptySourceProgress();
  }

  /** A copy of the state to persist. */
  snapshot(): SourceProgressState {
    return { ...this.state, times: { ...this.state.times } };
  }

  /** The reader starts at the partition's log start: it will read every marker ever written there. */
  readsWholeLog(): void {
    this.state.wholeLog = true;
  }

  /** Applies one marker; returns true when {@link time} may have changed. */
  observe(marker: ProgressMarker): boolean {
    const of = marker.of ?? null;
    // A different family size (the upstream topic grew, or the family changed kind): start over.
    if (of !== this.state.of) this.state = { times: {}, of, firstSeen: null, wholeLog: this.state.wholeLog };
    const times = this.state.times;
    if (marker.final && of === null) {
      delete times[marker.source];
      return true;
    }
    const previous = times[marker.source];
    if (previous !== undefined && previous >= marker.time) return false;
    times[marker.source] = marker.time;
    if (of === null) {
      this.state.firstSeen = Math.min(this.state.firstSeen ?? marker.time, marker.time);
      const newest = Math.max(...Object.values(times));
      for (const [source, time] of Object.entries(times)) if (time < newest - this.sourceTimeoutMs) delete times[source];
    }
    return true;
  }

  /**
   * The partition's progress: every record still to come in it has an ingest time of at least this. Undefined
   * while it is not known (a fixed family not yet complete, an open family still warming up or empty).
   */
  get time(): number | undefined {
    const times = Object.values(this.state.times);
    if (times.length === 0) return undefined;
    const { of, firstSeen } = this.state;
    if (of !== null && times.length < of) return undefined;
    if (of === null && !this.state.wholeLog && (firstSeen === null || Math.max(...times) - firstSeen < this.sourceTimeoutMs)) return undefined;
    return Math.min(...times);
  }
}
