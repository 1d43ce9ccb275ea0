/**
 * The contract between the operator and the per-window-type state machines (fixed, session, sliding, count).
 * A kind owns the store keys under its `prefix`, decides lateness for its window type, and emits results.
 */
import type { Accumulators, AggregationPlan, RecordInputs } from './aggregators';
import type { FieldScalar } from './record-fields';
import type { TimeWindow } from './window-assigner';
import type { WindowDefinition } from './window-definition';
import type { WindowResult } from './window-output';
import type { WindowStateStore } from './window-state-store';

/** A record that passed envelope, future-skew, dedup and field validation for one definition. */
export interface PreparedRecord {
  /** The record's dedup key (`TimedRecord.dedupKey ?? eventId`): what count windows pin. */
  dedupKey: string;
  eventTime: number;
  arrival: number;
  groupKey: string;
  group: Record<string, FieldScalar>;
  inputs: RecordInputs;
}

export type AddOutcome =
  /** `retainUntil`: watermark until which the eventId must stay in the dedup set; `pinned`: also until unpinned. */
  | { accepted: true; retainUntil: number; pinned: boolean }
  | { accepted: false; window: TimeWindow };

export interface KindContext {
  readonly store: WindowStateStore;
  /** The watermark lateness is judged against (for `add`: before the record moved it). */
  readonly watermark: number;
  emit(result: WindowResult): void;
  schedule(stateKey: string, time: number): void;
  /** Count windows pin the dedup entries of their records until they complete. */
  unpinDedup(dedupKeys: readonly string[]): void;
}

export interface WindowKind {
  /** Store-key prefix of this definition's state, e.g. 'w/account-1m/'. */
  readonly prefix: string;
  add(record: PreparedRecord, ctx: KindContext): AddOutcome;
  /** A timer for `stateKey` is due: emit and delete whatever closes at `ctx.watermark`, reschedule the rest. */
  onTimer(stateKey: string, ctx: KindContext): void;
  /** Earliest timer the state under `stateKey` needs (used to rebuild timers after a restore). */
  nextTimer(stateKey: string, store: WindowStateStore): number | undefined;
  openWindows(stateKey: string, store: WindowStateStore): number;
}

/** Shared plumbing for kinds: naming of state keys and building results. */
export abstract class BaseWindowKind {
  readonly prefix: string;
  protected readonly lateness: number;

  constructor(
    tag: string,
    protected readonly definition: WindowDefinition,
    protected readonly plan: AggregationPlan,
  ) {
    this.prefix = `${tag}/${definition.name}/`;
    this.lateness = definition.allowedLatenessMs;
  }

  protected keyOf(groupKey: string): string {
    return this.prefix + encodeURIComponent(groupKey);
  }

  protected get updates(): boolean {
    return this.definition.emit === 'update';
  }

  protected result(
    groupKey: string,
    group: Record<string, unknown>,
    window: TimeWindow,
    accs: Accumulators,
    count: number,
    version: number,
    final: boolean,
  ): WindowResult {
    return {
      definition: this.definition.name,
      groupKey,
      group: { ...group },
      windowType: this.definition.window.type,
      windowStart: window.start,
      windowEnd: window.end,
      values: this.plan.results(accs),
      count,
      version,
      final,
    };
  }
}
