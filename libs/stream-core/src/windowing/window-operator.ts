import type { Clock } from '../time/clock';
import type { ProgressMarker } from '../time/source-progress';
import { AggregationPlan } from './aggregators';
import { CountWindows } from './count-windows';
import { DedupLog } from './dedup-log';
import { FixedWindows } from './fixed-windows';
import { checkWindowInput } from './window-input';
import { SessionWindows } from './session-windows';
import { SlidingWindows } from './sliding-windows';
import { TimerQueue } from './timer-queue';
import { WatermarkTracker } from './watermark-tracker';
import { parseWindowDefinitions, type WindowDefinition } from './window-definition';
import type { KindContext, WindowKind } from './window-kind';
import type { DrainedOutput, InvalidRecord, LateRecord, TimedRecord, WindowResult } from './window-output';
import type { WindowStateStore } from './window-state-store';

export interface WindowOperatorOptions {
  definitions: WindowDefinition[];
  /** watermark = max event time seen - maxOutOfOrdernessMs. */
  maxOutOfOrdernessMs: number;
  /** In-band idle rule: once the partition's progress markers are this far (in ingest time) past its newest record, they drive the watermark; 0 disables. */
  idleTimeoutMs: number;
  /** Records with eventTime > clock.now() + maxFutureSkewMs are quarantined as FUTURE_TS. */
  maxFutureSkewMs: number;
  /** Keep seen eventIds at least this long past their event time (on top of window-based retention). */
  dedupHorizonMs?: number;
  clock: Clock;
}

export interface WindowOperatorStats {
  openWindows: number;
  /** Entries in the state store (windows, dedup set, progress). */
  stateEntries: number;
  dedupEntries: number;
  /** Duplicates ignored since this operator instance was constructed (not persisted). */
  duplicates: number;
}

/**
 * Dedup entry of a record pinned by open count windows: [watermark at which it may be forgotten, number of
 * open count windows pinning it]. Unpinned records (every other window type) go to the compact DedupLog.
 */
type DedupEntry = [expiresAt: number, pins: number];
const DEDUP_PREFIX = 'd/';

interface DefinitionRuntime {
  index: number;
  definition: WindowDefinition;
  plan: AggregationPlan;
  kind: WindowKind;
}

/**
 * Event-time window aggregation for one input partition (the Flink `WindowOperator` / Kafka Streams
 * `KStreamWindowAggregate` model: assigner → keyed window state → incremental aggregator → triggers on the
 * watermark). All state lives in the injected store, so an operator rebuilt from a persisted store continues
 * exactly as if it had never stopped. Semantics (quotable; see SEMANTICS.md for a worked example):
 *
 * 1. Windows are `[start, end)`, aligned to the epoch + offsetMs; an event at exactly `end` belongs to the next.
 * 2. watermark = max event time of counted records − maxOutOfOrdernessMs; it never moves backwards.
 *    FUTURE_TS, duplicate and invalid records do not move it. Idle rule (in-band, see WatermarkTracker): when
 *    `onProgress()` makes the partition's progress P known and P is at least idleTimeoutMs past the newest ingest
 *    time of its records, the watermark advances to P − maxOutOfOrdernessMs.
 *    No clock is read for it: a paused upstream delays the markers with the records.
 * 3. A window fires at watermark >= end and closes (final result, state deleted) at
 *    watermark >= end + allowedLatenessMs (`cleanupTime`). A record is TOO_LATE for a definition when every
 *    window it is assigned to is closed (`isWindowLate`); it is then reported once in `late` and not counted.
 *    A hopping record late for some of its windows only updates the open ones and is not reported.
 * 4. emit 'final': exactly one result per window, `final: true`, `version: 1`, at close (records within the
 *    lateness are included). emit 'update': one `final: false` result per record that changes a window
 *    (versions 1, 2, …), then at close one `final: true` result with the same values and version + 1.
 * 5. A record is checked per definition: invalid (missing/null group-by field, non-numeric field of a numeric
 *    aggregation) or late for one definition does not affect the others. A record naming a `definition` is
 *    applied to that definition only.
 * 6. A repeated eventId (or `dedupKey`, when the record has one) is ignored (counted in `duplicates`) while its
 *    dedup entry lives: until every window it was added to is closed, and at least `dedupHorizonMs` past its
 *    event time. Storage (not semantics): the ids of one batch — between two `drain()` calls — are one state
 *    row (see DedupLog), so the store holds the complete state only after `drain()`.
 * 7. Output order: per `process()` call, updates in definition order then window order; results fired by one
 *    watermark advance sorted by (windowEnd, definition order, groupKey, windowStart).
 */
export class PartitionWindowOperator {
  private readonly clock: Clock;
  private readonly progress: WatermarkTracker;
  private readonly definitions: DefinitionRuntime[];
  private readonly kindsByPrefix = new Map<string, WindowKind>();
  private readonly windowTimers = new TimerQueue();
  private readonly dedupTimers = new TimerQueue();
  private readonly dedupLog: DedupLog;
  private readonly maxFutureSkewMs: number;
  private readonly dedupHorizonMs: number;
  private results: WindowResult[] = [];
  private late: LateRecord[] = [];
  private invalid: InvalidRecord[] = [];
  private duplicatesSinceDrain = 0;
  private duplicatesTotal = 0;

  constructor(
    options: WindowOperatorOptions,
    private readonly store: WindowStateStore,
  ) {
    for (const key of ['maxOutOfOrdernessMs', 'idleTimeoutMs', 'maxFutureSkewMs', 'dedupHorizonMs'] as const) {
      const value = options[key] ?? 0;
      if (!(Number.isFinite(value) && value >= 0)) throw new RangeError(`WindowOperatorOptions.${key} must be a finite number >= 0 (got ${value})`);
    }
    this.clock = options.clock;
    this.maxFutureSkewMs = options.maxFutureSkewMs;
    this.dedupHorizonMs = options.dedupHorizonMs ?? 0;
    this.progress = new WatermarkTracker(store, options.maxOutOfOrdernessMs, options.idleTimeoutMs);
    this.definitions = parseWindowDefinitions(options.definitions).map((definition, index) => {
      const plan = new AggregationPlan(definition.aggregations);
      const kind = createWindowKind(definition, plan);
      this.kindsByPrefix.set(kind.prefix, kind);
      return { index, definition, plan, kind };
    });
    this.dedupLog = new DedupLog(store, this.progress.watermark);
    this.rebuildTimers();
  }

  /** -Infinity before any record. */
  get watermark(): number {
    return this.progress.watermark;
  }

  /** Never throws for bad data: bad records are reported through `drain()`. */
  process(record: TimedRecord): void {
    const now = this.clock.now();
    const ingestTime = finiteOr(record?.ingestTime, finiteOr(record?.observedAt, now));
    this.progress.recordActivity(ingestTime);
    const problem = envelopeProblem(record);
    if (problem !== undefined) {
      const r = (typeof record === 'object' && record !== null ? record : {}) as Partial<TimedRecord>;
      this.invalid.push({ eventId: String(r.eventId ?? ''), offset: String(r.offset ?? ''), reason: problem });
      return;
    }
    const { eventId, eventTime, value } = record;
    const dedupKey = record.dedupKey ?? eventId;
    const offset = String(record.offset);
    const only = record.definition;
    if (only !== undefined && !this.definitions.some((d) => d.definition.name === only)) {
      this.invalid.push({ eventId, offset, reason: `${only}: not a definition of this operator`, definition: only });
      return;
    }
    if (eventTime > (record.observedAt ?? now) + this.maxFutureSkewMs) {
      this.late.push({ reason: 'FUTURE_TS', eventId, eventTime, offset, watermark: this.watermark });
      return;
    }
    if (this.dedupLog.has(dedupKey) || this.store.get(DEDUP_PREFIX + dedupKey) !== undefined) {
      this.duplicatesSinceDrain += 1;
      this.duplicatesTotal += 1;
      return;
    }

    const watermark = this.watermark;
    const ctx = this.context(watermark, this.results);
    let arrival: number | undefined;
    let countsForWatermark = false;
    let accepted = false;
    let retainUntil = eventTime + this.dedupHorizonMs;
    let pins = 0;
    for (const { definition, plan, kind } of this.definitions) {
      if (only !== undefined && definition.name !== only) continue;
      const input = checkWindowInput(definition, plan, value);
      if (!input.ok) {
        this.invalid.push({ eventId, offset, reason: `${definition.name}: ${input.reason}`, definition: definition.name });
        continue;
      }
      countsForWatermark = true;
      arrival ??= this.progress.nextArrival();
      const outcome = kind.add({ dedupKey, eventTime, arrival, groupKey: input.groupKey, group: input.group, inputs: input.inputs }, ctx);
      if (outcome.accepted) {
        accepted = true;
        retainUntil = Math.max(retainUntil, outcome.retainUntil);
        if (outcome.pinned) pins += 1;
      } else {
        this.late.push({
          reason: 'TOO_LATE',
          eventId,
          eventTime,
          offset,
          watermark,
          definition: definition.name,
          windowStart: outcome.window.start,
          windowEnd: outcome.window.end,
        });
      }
    }
    if (accepted && pins > 0) {
      const entry: DedupEntry = [retainUntil, pins];
      this.store.put(DEDUP_PREFIX + dedupKey, entry);
    } else if (accepted && retainUntil > watermark) {
      // Not when it would already be expired (a count window completed by a record far behind the watermark):
      // an entry lives only while its expiry is above the watermark.
      this.dedupLog.add(dedupKey, retainUntil, arrival as number);
    }
    if (countsForWatermark && this.progress.observeEventTime(eventTime)) this.fireDue();
  }

  /**
   * A progress marker read from the partition, applied after the records before it (applying it later, after
   * more records, is always safe: it can only delay the idle rule). Fires what the idle rule makes due.
   */
  onProgress(marker: ProgressMarker): void {
    if (this.progress.observeProgress(marker)) this.fireDue();
  }

  /**
   * Everything produced since the last drain, in deterministic order. Also the end of a batch: the store holds
   * the operator's complete state only after a drain (dedup keys of the batch are written as one row here).
   */
  drain(): DrainedOutput {
    this.dedupLog.seal();
    const output = { results: this.results, late: this.late, invalid: this.invalid, duplicates: this.duplicatesSinceDrain };
    this.results = [];
    this.late = [];
    this.invalid = [];
    this.duplicatesSinceDrain = 0;
    return output;
  }

  openWindowCount(): number {
    let open = 0;
    for (const kind of this.kindsByPrefix.values()) {
      for (const key of this.store.keys(kind.prefix)) open += kind.openWindows(key, this.store);
    }
    return open;
  }

  stats(): WindowOperatorStats {
    return {
      openWindows: this.openWindowCount(),
      stateEntries: count(this.store.keys()),
      dedupEntries: this.dedupLog.size + count(this.store.keys(DEDUP_PREFIX)),
      duplicates: this.duplicatesTotal,
    };
  }

  /** Closes everything due at the current watermark, then forgets dedup entries that expired. */
  private fireDue(): void {
    const watermark = this.watermark;
    const fired: WindowResult[] = [];
    const ctx = this.context(watermark, fired);
    for (let timer = this.windowTimers.popDue(watermark); timer; timer = this.windowTimers.popDue(watermark)) {
      this.kindOf(timer.key)?.onTimer(timer.key, ctx);
    }
    const order = new Map(this.definitions.map((d) => [d.definition.name, d.index]));
    fired.sort(
      (a, b) =>
        a.windowEnd - b.windowEnd ||
        (order.get(a.definition) as number) - (order.get(b.definition) as number) ||
        (a.groupKey < b.groupKey ? -1 : a.groupKey > b.groupKey ? 1 : 0) ||
        a.windowStart - b.windowStart,
    );
    this.results.push(...fired);

    for (let timer = this.dedupTimers.popDue(watermark); timer; timer = this.dedupTimers.popDue(watermark)) {
      const entry = this.store.get<DedupEntry>(DEDUP_PREFIX + timer.key);
      // Pinned entries are rescheduled by unpinDedup once their count window completes.
      if (entry && entry[1] === 0 && entry[0] <= watermark) this.store.delete(DEDUP_PREFIX + timer.key);
    }
    this.dedupLog.expire(watermark);
  }

  private context(watermark: number, sink: WindowResult[]): KindContext {
    return {
      store: this.store,
      watermark,
      emit: (result) => sink.push(result),
      schedule: (key, time) => this.windowTimers.schedule(key, time),
      unpinDedup: (dedupKeys) => {
        for (const dedupKey of dedupKeys) {
          const entry = this.store.get<DedupEntry>(DEDUP_PREFIX + dedupKey);
          if (!entry) continue;
          const pins = Math.max(0, entry[1] - 1);
          if (pins === 0 && entry[0] <= this.watermark) {
            this.store.delete(DEDUP_PREFIX + dedupKey);
            continue;
          }
          this.store.put(DEDUP_PREFIX + dedupKey, [entry[0], pins] satisfies DedupEntry);
          if (pins === 0) this.dedupTimers.schedule(dedupKey, entry[0]);
        }
      },
    };
  }

  private kindOf(stateKey: string): WindowKind | undefined {
    return this.kindsByPrefix.get(stateKey.slice(0, stateKey.indexOf('/', stateKey.indexOf('/') + 1) + 1));
  }

  /** Timers are derived from state, so a restored operator fires exactly what the original would have. */
  private rebuildTimers(): void {
    for (const kind of this.kindsByPrefix.values()) {
      for (const key of this.store.keys(kind.prefix)) {
        const time = kind.nextTimer(key, this.store);
        if (time !== undefined) this.windowTimers.schedule(key, time);
      }
    }
    for (const key of this.store.keys(DEDUP_PREFIX)) {
      const entry = this.store.get<DedupEntry>(key) as DedupEntry;
      if (entry[1] === 0) this.dedupTimers.schedule(key.slice(DEDUP_PREFIX.length), entry[0]);
    }
  }
}

function createWindowKind(definition: WindowDefinition, plan: AggregationPlan): WindowKind {
  switch (definition.window.type) {
    case 'tumbling':
    case 'hopping':
      return new FixedWindows(definition, plan);
    case 'session':
      return new SessionWindows(definition, plan);
    case 'sliding':
      return new SlidingWindows(definition, plan);
    case 'count':
      return new CountWindows(definition, plan);
  }
}

function envelopeProblem(record: unknown): string | undefined {
  if (typeof record !== 'object' || record === null) return 'record is not an object';
  const r = record as Record<string, unknown>;
  if (typeof r.eventId !== 'string' || r.eventId === '') return 'eventId must be a non-empty string';
  if (r.dedupKey !== undefined && (typeof r.dedupKey !== 'string' || r.dedupKey === '')) return 'dedupKey must be a non-empty string when present';
  if (r.definition !== undefined && (typeof r.definition !== 'string' || r.definition === '')) return 'definition must be a non-empty string when present';
  if (typeof r.eventTime !== 'number' || !Number.isFinite(r.eventTime)) return 'eventTime must be a finite number (epoch ms)';
  if (r.observedAt !== undefined && (typeof r.observedAt !== 'number' || !Number.isFinite(r.observedAt))) return 'observedAt must be a finite number (epoch ms) when present';
  if (typeof r.value !== 'object' || r.value === null || Array.isArray(r.value)) return 'value must be an object';
  return undefined;
}

function finiteOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

function count(items: Iterable<unknown>): number {
  let n = 0;
  for (const _ of items) n += 1;
  return n;
}
