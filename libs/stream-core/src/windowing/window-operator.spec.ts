import { tenantDedupKey, tenantScopedWindowDefinition } from '../tenancy/tenant-scope';
import { ManualClock } from '../time/clock';
import type { WindowDefinition, WindowSpec } from './window-definition';
import { PartitionWindowOperator, type WindowOperatorOptions } from './window-operator';
import type { DrainedOutput, LateRecord, WindowResult } from './window-output';
import { InMemoryWindowStateStore } from './window-state-store';

// ---- kit: event-time scripts --------------------------------------------------------------------------

function def(window: WindowSpec, extra: Partial<WindowDefinition> = {}): WindowDefinition {
  return { name: 'w', groupBy: ['accountId'], window, aggregations: [{ name: 'n', fn: 'count' }], allowedLatenessMs: 0, emit: 'final', ...extra };
}

type Options = Partial<Omit<WindowOperatorOptions, 'definitions' | 'clock'>>;
const defaults = { maxOutOfOrdernessMs: 0, idleTimeoutMs: 0, maxFutureSkewMs: 1_000_000 };

function setup(definitions: WindowDefinition[], options: Options = {}, now = 1_000_000) {
  const clock = new ManualClock(now);
  const store = new InMemoryWindowStateStore();
  const op = new PartitionWindowOperator({ ...defaults, ...options, definitions, clock }, store);
  let seq = 0;
  /** An event at event time `t`, ingested at `ingestTime` (default: the clock). */
  const send = (t: number, value: Record<string, unknown> = { accountId: 'acc-1' }, eventId?: string, ingestTime?: number) => {
    seq += 1;
    op.process({ eventId: eventId ?? `e${seq}`, eventTime: t, value, offset: String(seq), ...(ingestTime === undefined ? {} : { ingestTime }) });
  };
  /** A progress marker of the partition's only upstream source, at `time` (default: the clock). */
  const progress = (time = clock.now()) => op.onProgress({ source: 'events.raw/0', time, of: 1 });
  return { op, clock, store, send, progress };
}

/** One-line rendering of a result: definition|group [start,end) count vN, F = final, U = update. */
function brief(r: WindowResult): string {
  return `${r.definition}|${r.groupKey} [${r.windowStart},${r.windowEnd}) n=${r.count} v${r.version} ${r.final ? 'F' : 'U'}`;
}
function briefLate(l: LateRecord): string {
  return l.reason === 'FUTURE_TS'
    ? `FUTURE_TS ${l.eventId} t=${l.eventTime} wm=${l.watermark}`
    : `TOO_LATE ${l.eventId} t=${l.eventTime} wm=${l.watermark} ${l.definition}[${l.windowStart},${l.windowEnd})`;
}
function render(out: DrainedOutput): string[] {
  return [...out.results.map(brief), ...out.late.map(briefLate), ...out.invalid.map((i) => `INVALID ${i.eventId} ${i.reason}`), ...(out.duplicates ? [`DUP x${out.duplicates}`] : [])];
}

/**
 * A step: an event `[t]` / `[t, key]` (ingested at the clock's time), or `{ idleMs }` (advance the clock, then a
 * progress marker at the clock's time), with the exact output it causes.
 */
type Step = [input: [number] | [number, string] | { idleMs: number }, expected: string[]];

function runScript(definitions: WindowDefinition[], steps: Step[], options: Options = {}, now?: number) {
  const kit = setup(definitions, options, now);
  steps.forEach(([input, expected], i) => {
    if (Array.isArray(input)) kit.send(input[0], { accountId: input[1] ?? 'acc-1' });
    else {
      kit.clock.advance(input.idleMs);
      kit.progress();
    }
    expect({ step: i, input, output: render(kit.op.drain()) }).toEqual({ step: i, input, output: expected });
  });
  return kit;
}

// ---- scenarios ----------------------------------------------------------------------------------------

describe('PartitionWindowOperator — tumbling', () => {
  it('out-of-order records within the bound fire once, with the right count', () => {
    runScript([def({ type: 'tumbling', sizeMs: 10 })], [
      [[1], []],
      [[8], []],
      [[3], []], // wm 3: still open
      [[12], []], // wm 7
      [[9], []],
      [[16], ['w|acc-1 [0,10) n=4 v1 F']], // wm 11 >= end 10
      [[15], []],
      [[40], ['w|acc-1 [10,20) n=3 v1 F']],
    ], { maxOutOfOrdernessMs: 5 });
  });

  it('an event at exactly `end` belongs to the next window', () => {
    const kit = runScript([def({ type: 'tumbling', sizeMs: 10 })], [
      [[0], []],
      [[10], ['w|acc-1 [0,10) n=1 v1 F']],
      [[20], ['w|acc-1 [10,20) n=1 v1 F']],
    ]);
    expect(kit.op.watermark).toBe(20);
  });

  it('offsets and negative timestamps align windows correctly', () => {
    runScript([def({ type: 'tumbling', sizeMs: 10, offsetMs: 3 })], [
      [[-8], []],
      [[2], ['w|acc-1 [-17,-7) n=1 v1 F']],
      [[3], ['w|acc-1 [-7,3) n=1 v1 F']],
    ]);
  });

  it('final mode: a record within lateness is included in the single final result', () => {
    runScript([def({ type: 'tumbling', sizeMs: 10 }, { allowedLatenessMs: 5 })], [
      [[1], []],
      [[12], []], // wm 12: [0,10) has fired but is still accepting
      [[5], []],
      [[15], ['w|acc-1 [0,10) n=2 v1 F']],
    ]);
  });

  it('update mode: a late record within lateness yields exactly one update; close repeats it as final with version + 1', () => {
    runScript([def({ type: 'tumbling', sizeMs: 10 }, { allowedLatenessMs: 5, emit: 'update' })], [
      [[1], ['w|acc-1 [0,10) n=1 v1 U']],
      [[12], ['w|acc-1 [10,20) n=1 v1 U']],
      [[5], ['w|acc-1 [0,10) n=2 v2 U']],
      [[15], ['w|acc-1 [10,20) n=2 v2 U', 'w|acc-1 [0,10) n=2 v3 F']],
    ]);
  });

  it('accepted at watermark end + lateness - 1, rejected at end + lateness with the window and watermark', () => {
    runScript([def({ type: 'tumbling', sizeMs: 10 }, { allowedLatenessMs: 5 })], [
      [[1], []],
      [[14], []], // wm 14 = end + lateness - 1
      [[3], []], // accepted
      [[15], ['w|acc-1 [0,10) n=2 v1 F']], // wm 15 = end + lateness: closes
      [[4], ['TOO_LATE e5 t=4 wm=15 w[0,10)']],
    ]);
  });

  it('groups are independent and results fired together are ordered by windowEnd, definition, groupKey', () => {
    const defs = [def({ type: 'tumbling', sizeMs: 10 }, { name: 'b-def' }), def({ type: 'tumbling', sizeMs: 5 }, { name: 'a-def' })];
    const kit = setup(defs, { maxOutOfOrdernessMs: 10 });
    kit.send(1, { accountId: 'z' });
    kit.send(7, { accountId: 'y' });
    kit.send(2, { accountId: 'y' });
    kit.send(30, { accountId: 'x' });
    expect(render(kit.op.drain())).toEqual([
      'a-def|y [0,5) n=1 v1 F',
      'a-def|z [0,5) n=1 v1 F',
      'b-def|y [0,10) n=2 v1 F',
      'b-def|z [0,10) n=1 v1 F',
      'a-def|y [5,10) n=1 v1 F',
    ]);
  });

  it('each definition judges lateness on its own', () => {
    const defs = [def({ type: 'tumbling', sizeMs: 10 }, { name: 'strict' }), def({ type: 'tumbling', sizeMs: 10 }, { name: 'lenient', allowedLatenessMs: 100 })];
    runScript(defs, [
      [[1], []],
      [[20], ['strict|acc-1 [0,10) n=1 v1 F']],
      [[2], ['TOO_LATE e3 t=2 wm=20 strict[0,10)']],
      [[200], ['lenient|acc-1 [0,10) n=2 v1 F', 'strict|acc-1 [20,30) n=1 v1 F', 'lenient|acc-1 [20,30) n=1 v1 F']],
    ]);
  });
});

describe('PartitionWindowOperator — hopping', () => {
  it('puts each record in exactly size/advance windows', () => {
    runScript([def({ type: 'hopping', sizeMs: 10, advanceMs: 5 })], [
      [[7], []],
      [[3], []],
      [[100], ['w|acc-1 [-5,5) n=1 v1 F', 'w|acc-1 [0,10) n=2 v1 F', 'w|acc-1 [5,15) n=1 v1 F']],
    ], { maxOutOfOrdernessMs: 10 });
  });

  it('a record late for some of its windows updates only the open ones and is not reported late', () => {
    runScript([def({ type: 'hopping', sizeMs: 10, advanceMs: 5 }, { emit: 'update' })], [
      [[12], ['w|acc-1 [5,15) n=1 v1 U', 'w|acc-1 [10,20) n=1 v1 U']],
      [[8], ['w|acc-1 [5,15) n=2 v2 U']], // [0,10) is closed at wm 12
      [[3], ['TOO_LATE e3 t=3 wm=12 w[0,10)']], // both [-5,5) and [0,10) closed: reports the latest
      [[15], ['w|acc-1 [10,20) n=2 v2 U', 'w|acc-1 [15,25) n=1 v1 U', 'w|acc-1 [5,15) n=2 v3 F']],
    ]);
  });
});

describe('PartitionWindowOperator — session', () => {
  const session = (extra: Partial<WindowDefinition> = {}) => def({ type: 'session', gapMs: 10 }, extra);

  it('a bridging event merges two sessions into one; final mode emits only the merged session', () => {
    const kit = runScript([session()], [
      [[0], []],
      [[18], []],
      [[9], []], // [9,19) overlaps [0,10) and [18,28): one session [0,28)
      [[40], ['w|acc-1 [0,28) n=3 v1 F']],
      [{ idleMs: 10_000_000 }, ['w|acc-1 [40,50) n=1 v1 F']],
    ], { maxOutOfOrdernessMs: 10, idleTimeoutMs: 1 }, 0); // the clock at 0: events ingested about when they happened
    expect(kit.op.openWindowCount()).toBe(0);
    expect(kit.store.keys('s/')).toEqual([]);
  });

  it('update mode emits the merged session with version max + 1, then one final result', () => {
    runScript([session({ emit: 'update' })], [
      [[0], ['w|acc-1 [0,10) n=1 v1 U']],
      [[3], ['w|acc-1 [0,13) n=2 v2 U']],
      [[18], ['w|acc-1 [18,28) n=1 v1 U']],
      [[9], ['w|acc-1 [0,28) n=4 v3 U']],
      [[40], ['w|acc-1 [40,50) n=1 v1 U', 'w|acc-1 [0,28) n=4 v4 F']],
    ], { maxOutOfOrdernessMs: 10 });
  });

  it('events exactly gapMs apart share a session; an event whose own window is closed is TOO_LATE', () => {
    runScript([session({ allowedLatenessMs: 2 })], [
      [[0], []],
      [[10], []], // touches [0,10): [0,20)
      [[25], ['w|acc-1 [0,20) n=2 v1 F']], // wm 25 >= end 20 + lateness 2
      [[30], []],
      [[12], ['TOO_LATE e5 t=12 wm=30 w[12,22)']],
      [[50], ['w|acc-1 [25,40) n=2 v1 F']],
    ], { maxOutOfOrdernessMs: 0 });
  });

  it('closes the first session when the watermark passes its end', () => {
    runScript([session()], [
      [[0], []],
      [[10], []], // touches → [0,20)
      [[25], ['w|acc-1 [0,20) n=2 v1 F']],
    ]);
  });
});

describe('PartitionWindowOperator — sliding', () => {
  it('each record defines [t - size, t] (inclusive), reported as [t - size, t + 1)', () => {
    runScript([def({ type: 'sliding', sizeMs: 10 })], [
      [[5], []],
      [[15], ['w|acc-1 [-5,6) n=1 v1 F']],
      [[12], []],
      [[20], ['w|acc-1 [2,13) n=2 v1 F']], // wm 15: the window of 15 ends at 16
      [[40], ['w|acc-1 [5,16) n=3 v1 F', 'w|acc-1 [10,21) n=3 v1 F']],
    ], { maxOutOfOrdernessMs: 5 });
  });

  it('late records join still-open later windows; TOO_LATE only when no open window can take them', () => {
    const kit = runScript([def({ type: 'sliding', sizeMs: 10 }, { emit: 'update' })], [
      [[20], ['w|acc-1 [10,21) n=1 v1 U']],
      [[15], ['w|acc-1 [10,21) n=2 v2 U']], // own window [5,16) closed at wm 20, but [10,21) takes it
      [[5], ['TOO_LATE e3 t=5 wm=20 w[-5,6)']],
      [[21], ['w|acc-1 [11,22) n=3 v1 U', 'w|acc-1 [10,21) n=2 v3 F']], // [11,21] holds 15, 20, 21
      [[100], ['w|acc-1 [90,101) n=1 v1 U', 'w|acc-1 [11,22) n=3 v2 F']],
    ]);
    // Only the record at 100 (and its window) is still needed.
    expect(kit.op.stats().openWindows).toBe(1);
    expect((kit.store.get<{ r: unknown[] }>('l/w/acc-1') as { r: unknown[] }).r).toHaveLength(1);
  });

  it('records at the same event time share one window', () => {
    runScript([def({ type: 'sliding', sizeMs: 10 })], [
      [[5], []],
      [[5], []],
      [[30], ['w|acc-1 [-5,6) n=2 v1 F']],
    ]);
  });
});

describe('PartitionWindowOperator — count', () => {
  it('every N records per key form a window; lateness does not apply', () => {
    runScript([def({ type: 'count', size: 3 })], [
      [[50], []],
      [[10, 'other'], []],
      [[30], []],
      [[1000], ['w|acc-1 [30,1001) n=3 v1 F']],
      [[20], []], // event times far behind the watermark: still counted
      [[1], []],
      [[5], ['w|acc-1 [1,21) n=3 v1 F']],
    ]);
  });

  it('update mode: one update per record, then the final result', () => {
    const kit = runScript([def({ type: 'count', size: 2 }, { emit: 'update' })], [
      [[5], ['w|acc-1 [5,6) n=1 v1 U']],
      [[3], ['w|acc-1 [3,6) n=2 v2 U', 'w|acc-1 [3,6) n=2 v3 F']],
      [[9], ['w|acc-1 [9,10) n=1 v1 U']],
    ]);
    expect(kit.op.openWindowCount()).toBe(1);
  });

  it('dedup entries are pinned while their count window is open', () => {
    const kit = setup([def({ type: 'count', size: 3 })]);
    kit.send(1, { accountId: 'a' }, 'x');
    kit.send(100, { accountId: 'a' }, 'y');
    kit.send(1, { accountId: 'a' }, 'x'); // duplicate despite wm 100 >> 1
    expect(render(kit.op.drain())).toEqual(['DUP x1']);
    kit.send(200, { accountId: 'a' }, 'z');
    expect(render(kit.op.drain())).toEqual(['w|a [1,201) n=3 v1 F']);
    // Once the window completes, count-window dedup falls back to event time (+ dedupHorizonMs): wm 200 passed all.
    expect(kit.op.stats().dedupEntries).toBe(0);
  });
});

describe('PartitionWindowOperator — watermark', () => {
  it('an idle partition advances the watermark with its progress markers and closes windows, never backwards', () => {
    const kit = runScript([def({ type: 'tumbling', sizeMs: 10 })], [
      [[999_995], []], // wm 999_990, ingested at 1_000_000
      [{ idleMs: 999 }, []], // marker 1_000_999: 999 ms of ingest time without a record, not yet idle
      [{ idleMs: 1 }, ['w|acc-1 [999990,1000000) n=1 v1 F']], // idle: wm = marker - 5 = 1_000_995
    ], { maxOutOfOrdernessMs: 5, idleTimeoutMs: 1000 });
    expect(kit.op.watermark).toBe(1_000_995);
    kit.send(1_000_996); // max event time - 5 = 1_000_991 < current: stays
    expect(kit.op.watermark).toBe(1_000_995);
    kit.send(1_000_989);
    expect(render(kit.op.drain())).toEqual(['TOO_LATE e3 t=1000989 wm=1000995 w[1000980,1000990)']);
  });

  it('idle advance never moves the watermark backwards and does nothing before the first record', () => {
    const kit = setup([def({ type: 'tumbling', sizeMs: 10 })], { idleTimeoutMs: 100 }, 0);
    kit.clock.advance(10_000);
    kit.progress();
    expect(kit.op.watermark).toBe(-Infinity);
    kit.send(50_000); // allowed by the future skew; wm 50_000 is ahead of processing time
    kit.clock.advance(1_000);
    kit.progress();
    expect(kit.op.watermark).toBe(50_000);
  });

  it('reads no clock: hours of processing time without a marker (a paused upstream) close nothing', () => {
    const kit = setup([def({ type: 'tumbling', sizeMs: 10 })], { idleTimeoutMs: 100 }, 0);
    kit.send(5);
    kit.clock.advance(3_600_000);
    kit.progress(50); // a marker written before the upstream paused: only 50 ms after the record
    expect(kit.op.watermark).toBe(5);
    expect(render(kit.op.drain())).toEqual([]);
    kit.send(7, undefined, undefined, 60); // queued behind the pause, ingested at 60: on time
    kit.progress(160); // 100 ms after the newest record: idle now
    expect(kit.op.watermark).toBe(160);
    expect(render(kit.op.drain())).toEqual(['w|acc-1 [0,10) n=2 v1 F']);
  });

  it('a marker counts from the newest ingest time, so records ingested after the marker keep the partition busy', () => {
    const kit = setup([def({ type: 'tumbling', sizeMs: 10 })], { idleTimeoutMs: 1000 }, 0);
    kit.send(5);
    kit.clock.advance(500);
    kit.send(8); // ingested at 500
    kit.progress(1_450); // 1450 ms after the first record, but only 950 after the newest: not idle
    expect(kit.op.watermark).toBe(8);
    kit.progress(1_500);
    expect(kit.op.watermark).toBe(1_500);
  });

  it('progress is the minimum over every upstream partition, and unknown until all of them were heard', () => {
    const kit = setup([def({ type: 'tumbling', sizeMs: 10 })], { idleTimeoutMs: 100 }, 0);
    kit.send(5);
    kit.op.onProgress({ source: 'events.raw/0', time: 1_000, of: 2 });
    expect(kit.op.watermark).toBe(5); // events.raw/1 not heard from: progress unknown
    kit.op.onProgress({ source: 'events.raw/1', time: 300, of: 2 });
    expect(kit.op.watermark).toBe(300);
    kit.op.onProgress({ source: 'events.raw/0', time: 2_000, of: 2 });
    expect(kit.op.watermark).toBe(300); // raw/1 is still at 300
    kit.op.onProgress({ source: 'events.raw/1', time: 5_000, of: 2 });
    expect(kit.op.watermark).toBe(2_000);
  });

  it('a backlog read hours later is judged in ingest time, exactly as it was live (a replay, a stage catching up)', () => {
    const script = (kit: ReturnType<typeof setup>) => {
      kit.send(5, undefined, 'a', 0);
      kit.progress(50); // 50 ms after the record: not idle
      kit.send(12, undefined, 'b', 60);
      kit.progress(200); // idle: wm 200 closes [0,10) and [10,20)
      kit.send(7, undefined, 'c', 210); // too late, as it was live
      return render(kit.op.drain());
    };
    const live = script(setup([def({ type: 'tumbling', sizeMs: 10 })], { idleTimeoutMs: 100 }, 0));
    const replayed = script(setup([def({ type: 'tumbling', sizeMs: 10 })], { idleTimeoutMs: 100 }, 86_400_000));
    expect(live).toEqual(['w|acc-1 [0,10) n=1 v1 F', 'w|acc-1 [10,20) n=1 v1 F', 'TOO_LATE c t=7 wm=200 w[0,10)']);
    expect(replayed).toEqual(live);
  });

  it('a far-future record is quarantined: FUTURE_TS, no firing, watermark unchanged, not counted', () => {
    const kit = setup([def({ type: 'tumbling', sizeMs: 10 })], { maxFutureSkewMs: 100 }, 1000);
    kit.send(500);
    kit.send(5000);
    expect(render(kit.op.drain())).toEqual(['FUTURE_TS e2 t=5000 wm=500']);
    expect(kit.op.watermark).toBe(500);
    expect(kit.op.openWindowCount()).toBe(1);
    kit.send(1100); // exactly now + skew: accepted
    expect(render(kit.op.drain())).toEqual(['w|acc-1 [500,510) n=1 v1 F']);
  });

  it('judges FUTURE_TS against observedAt when the record carries one, whatever the clock says', () => {
    const kit = setup([def({ type: 'tumbling', sizeMs: 10 })], { maxFutureSkewMs: 100 }, 1_000_000);
    const record = (eventId: string, eventTime: number, observedAt: number) => ({ eventId, eventTime, observedAt, value: { accountId: 'acc-1' }, offset: eventId });
    kit.op.process(record('late-clock', 500, 300)); // 200 ahead of when it was observed: future, although the clock is far ahead
    kit.op.process(record('ok', 500, 400)); // exactly observedAt + skew: accepted
    expect(kit.op.drain().late.map((l) => [l.reason, l.eventId])).toEqual([['FUTURE_TS', 'late-clock']]);
    expect(kit.op.openWindowCount()).toBe(1);
  });

  it('watermark is -Infinity before any record and is reported as such on early rejections', () => {
    const kit = setup([def({ type: 'tumbling', sizeMs: 10 })], { maxFutureSkewMs: 0 }, 0);
    expect(kit.op.watermark).toBe(-Infinity);
    kit.send(1);
    expect(kit.op.drain().late).toEqual([{ reason: 'FUTURE_TS', eventId: 'e1', eventTime: 1, offset: '1', watermark: -Infinity }]);
  });
});

describe('PartitionWindowOperator — dedup', () => {
  it('a repeated eventId never counts twice, also after the window fired within lateness', () => {
    const kit = setup([def({ type: 'tumbling', sizeMs: 10 }, { allowedLatenessMs: 10, emit: 'update' })]);
    kit.send(1, undefined, 'a');
    kit.send(1, undefined, 'a');
    kit.send(12, undefined, 'b');
    kit.send(1, undefined, 'a');
    expect(render(kit.op.drain())).toEqual(['w|acc-1 [0,10) n=1 v1 U', 'w|acc-1 [10,20) n=1 v1 U', 'DUP x2']);
    kit.send(20, undefined, 'c'); // closes [0,10): dedup entry of 'a' expires
    expect(kit.op.stats()).toMatchObject({ dedupEntries: 2, duplicates: 2 });
    kit.send(1, undefined, 'a'); // now simply too late
    expect(render(kit.op.drain())).toEqual(['w|acc-1 [20,30) n=1 v1 U', 'w|acc-1 [0,10) n=1 v2 F', 'TOO_LATE a t=1 wm=20 w[0,10)']);
  });

  it('dedupHorizonMs keeps eventIds beyond window cleanup', () => {
    const kit = setup([def({ type: 'tumbling', sizeMs: 10 })], { dedupHorizonMs: 100 });
    kit.send(1, undefined, 'a');
    kit.send(50, undefined, 'b');
    kit.send(1, undefined, 'a');
    expect(render(kit.op.drain())).toEqual(['w|acc-1 [0,10) n=1 v1 F', 'DUP x1']);
    kit.send(101, undefined, 'c');
    kit.send(1, undefined, 'a');
    expect(render(kit.op.drain())).toEqual(['w|acc-1 [50,60) n=1 v1 F', 'TOO_LATE a t=1 wm=101 w[0,10)']);
  });

  it('persists the dedup keys of a batch (one drain) as one state row, deleted once all of them expired', () => {
    const kit = setup([def({ type: 'tumbling', sizeMs: 10 })]);
    for (let i = 0; i < 100; i++) kit.send(i % 10, undefined, `e${i}`);
    kit.op.drain();
    const { upserts } = kit.store.takeChanges();
    expect(upserts.filter(([key]) => key.startsWith('dd/') || key.startsWith('d/')).map(([key]) => key)).toEqual(['dd/0']);
    kit.send(10, undefined, 'next'); // closes [0,10): all 100 expire
    kit.op.drain();
    expect(kit.store.takeChanges().deletes.filter((key) => key.startsWith('dd/'))).toEqual(['dd/0']);
    expect(kit.op.stats().dedupEntries).toBe(1);
  });

  it('does not remember an id whose expiry is already below the watermark (count window completed far behind it)', () => {
    const kit = setup([def({ type: 'count', size: 1 })], { dedupHorizonMs: 10 });
    kit.send(100, undefined, 'ahead'); // watermark 100; expiry 110
    kit.send(3, undefined, 'behind'); // completes its count window at once: expiry 3 + 10 ≤ 100
    kit.op.drain();
    expect(kit.store.keys().filter((key) => key.startsWith('dd/') || key.startsWith('d/'))).toEqual(['dd/0']); // only 'ahead'
    // Live and restored operators agree: the id is forgotten, a resend counts again (rule 6: only the horizon applies).
    const restored = new PartitionWindowOperator(
      { ...defaults, dedupHorizonMs: 10, definitions: [def({ type: 'count', size: 1 })], clock: kit.clock }, new InMemoryWindowStateStore(kit.store.entries()),
    );
    for (const op of [kit.op, restored]) {
      op.process({ eventId: 'behind', eventTime: 3, value: { accountId: 'acc-1' }, offset: '9' });
      expect(op.drain().duplicates).toBe(0);
    }
  });

  it('still honours per-event dedup rows written by earlier versions (d/<key> = [expiresAt, pins])', () => {
    const kit = setup([def({ type: 'tumbling', sizeMs: 10 })]);
    kit.send(1, undefined, 'a');
    kit.op.drain();
    const restored = new InMemoryWindowStateStore([
      ...kit.store.entries().filter(([key]) => !key.startsWith('dd/')),
      ['d/a', [10, 0]],
    ]);
    const op = new PartitionWindowOperator({ ...defaults, definitions: [def({ type: 'tumbling', sizeMs: 10 })], clock: kit.clock }, restored);
    op.process({ eventId: 'a', eventTime: 2, value: { accountId: 'acc-1' }, offset: '2' });
    expect(op.drain().duplicates).toBe(1);
    op.process({ eventId: 'b', eventTime: 10, value: { accountId: 'acc-1' }, offset: '3' });
    op.drain();
    expect(restored.get('d/a')).toBeUndefined(); // expired with its window
  });
});

describe('PartitionWindowOperator — tenants (tenant-scoped definitions + tenantDedupKey)', () => {
  /** How the aggregate service feeds the operator: tenantId first in groupBy, dedup by tenant + eventId. */
  function tenantKit(window: WindowSpec, extra: Partial<WindowDefinition> = {}) {
    const kit = setup([tenantScopedWindowDefinition(def(window, extra))]);
    let offset = 0;
    const send = (tenantId: string, eventId: string, t: number, accountId = 'acc-1') => {
      offset += 1;
      kit.op.process({ eventId, dedupKey: tenantDedupKey(tenantId, eventId), eventTime: t, value: { tenantId, accountId }, offset: String(offset) });
    };
    return { ...kit, send };
  }

  it('gives two tenants with the same account and event ids separate windows, and neither dedups the other', () => {
    const kit = tenantKit({ type: 'tumbling', sizeMs: 10 });
    kit.send('acme', 'e1', 1);
    kit.send('globex', 'e1', 2);
    kit.send('acme', 'e2', 3);
    kit.send('acme', 'e1', 4); // acme's own redelivery: a duplicate
    kit.send('globex', 'e9', 10);
    const out = kit.op.drain();
    expect(render(out)).toEqual(['w|acme|acc-1 [0,10) n=2 v1 F', 'w|globex|acc-1 [0,10) n=1 v1 F', 'DUP x1']);
    expect(out.results.map((r) => r.group)).toEqual([{ tenantId: 'acme', accountId: 'acc-1' }, { tenantId: 'globex', accountId: 'acc-1' }]);
  });

  it('pins count-window dedup entries by tenant', () => {
    const kit = tenantKit({ type: 'count', size: 2 });
    kit.send('acme', 'x', 1);
    kit.send('globex', 'x', 1);
    kit.send('acme', 'x', 1);
    expect(render(kit.op.drain())).toEqual(['DUP x1']);
    kit.send('globex', 'y', 2);
    expect(render(kit.op.drain())).toEqual(['w|globex|acc-1 [1,3) n=2 v1 F']);
    expect(kit.op.stats().dedupEntries).toBe(1); // acme's x, still pinned by its open window
  });

  it('rejects an empty dedupKey as an invalid record', () => {
    const kit = setup([def({ type: 'tumbling', sizeMs: 10 })]);
    kit.op.process({ eventId: 'e', dedupKey: '', eventTime: 1, value: { accountId: 'a' }, offset: '1' });
    expect(render(kit.op.drain())).toEqual(['INVALID e dedupKey must be a non-empty string when present']);
  });
});

describe('PartitionWindowOperator — validation', () => {
  it('reports bad records through drain().invalid and never throws', () => {
    const defs = [
      def({ type: 'tumbling', sizeMs: 10 }, { name: 'by-country', groupBy: ['location.country'] }),
      def({ type: 'tumbling', sizeMs: 10 }, { name: 'amount', aggregations: [{ name: 's', fn: 'sum', field: 'amount' }] }),
    ];
    const kit = setup(defs);
    const op = kit.op as unknown as { process(r: unknown): void };
    op.process(null);
    op.process({ eventId: '', eventTime: 1, value: {}, offset: '1' });
    op.process({ eventId: 'x', eventTime: Number.NaN, value: {}, offset: '2' });
    op.process({ eventId: 'y', eventTime: 1, value: 'str', offset: '3' });
    kit.send(1, { accountId: 'a', amount: 'abc', location: { country: 'FR' } }, 'bad-amount');
    kit.send(2, { accountId: 'a', amount: 5 }, 'no-country');
    kit.send(3, { accountId: { nested: true }, amount: '7.5', location: { country: 'DE' } }, 'bad-group');
    const out = kit.op.drain();
    expect(out.invalid).toEqual([
      { eventId: '', offset: '', reason: 'record is not an object' },
      { eventId: '', offset: '1', reason: 'eventId must be a non-empty string' },
      { eventId: 'x', offset: '2', reason: 'eventTime must be a finite number (epoch ms)' },
      { eventId: 'y', offset: '3', reason: 'value must be an object' },
      { eventId: 'bad-amount', offset: '1', reason: "amount: field 'amount' of aggregation 's' (sum) is not numeric", definition: 'amount' },
      { eventId: 'no-country', offset: '2', reason: "by-country: groupBy field 'location.country' is missing or null", definition: 'by-country' },
      { eventId: 'bad-group', offset: '3', reason: "amount: groupBy field 'accountId' is not a string, finite number or boolean", definition: 'amount' },
    ]);
    kit.send(100, { accountId: 'a', amount: 1, location: { country: 'FR' } });
    // Each record counted by the definitions it is valid for.
    expect(render(kit.op.drain())).toEqual(['by-country|DE [0,10) n=1 v1 F', 'by-country|FR [0,10) n=1 v1 F', 'amount|a [0,10) n=1 v1 F']);
  });

  it('a record invalid for every definition does not move the watermark', () => {
    const kit = setup([def({ type: 'tumbling', sizeMs: 10 })]);
    kit.send(100, { other: 1 });
    expect(kit.op.watermark).toBe(-Infinity);
  });

  it('rejects bad options', () => {
    expect(() => setup([def({ type: 'tumbling', sizeMs: 10 })], { maxOutOfOrdernessMs: -1 })).toThrow(RangeError);
    expect(() => setup([def({ type: 'tumbling', sizeMs: 0 })])).toThrow(/window.sizeMs/);
  });
});

describe('PartitionWindowOperator — aggregations', () => {
  const aggregations = [
    { name: 'n', fn: 'count' as const },
    { name: 'withCard', fn: 'count' as const, field: 'card' },
    { name: 'total', fn: 'sum' as const, field: 'amount' },
    { name: 'lo', fn: 'min' as const, field: 'amount' },
    { name: 'hi', fn: 'max' as const, field: 'amount' },
    { name: 'mean', fn: 'avg' as const, field: 'amount' },
    { name: 'sd', fn: 'stddev' as const, field: 'amount' },
    { name: 'merchants', fn: 'countDistinct' as const, field: 'merchant' },
    { name: 'firstMerchant', fn: 'first' as const, field: 'merchant' },
    { name: 'lastMerchant', fn: 'last' as const, field: 'merchant' },
  ];
  const events: Array<[number, Record<string, unknown>]> = [
    [5, { amount: 40, merchant: 'm2', card: 'c1' }],
    [2, { amount: '10', merchant: 'm1' }], // numeric text is numeric
    [5, { amount: 30, merchant: 'm3', card: null }], // same event time as the first: later arrival
    [2, { amount: 20, merchant: 'm4' }],
  ];
  const expected = { n: 4, withCard: 1, total: 100, lo: 10, hi: 40, mean: 25, sd: Math.sqrt(125), merchants: 4, firstMerchant: 'm1', lastMerchant: 'm3' };

  it.each(['tumbling', 'session', 'sliding', 'count'] as const)('computes every aggregation fn (%s)', (type) => {
    const window: WindowSpec =
      type === 'tumbling' ? { type, sizeMs: 10 } : type === 'session' ? { type, gapMs: 3 } : type === 'sliding' ? { type, sizeMs: 3 } : { type, size: 4 };
    const kit = setup([def(window, { aggregations })], { maxOutOfOrdernessMs: 10 });
    for (const [t, value] of events) kit.send(t, { accountId: 'a', ...value });
    kit.send(1000, { accountId: 'other', amount: 0 });
    const results = kit.op.drain().results.filter((r) => r.groupKey === 'a');
    const last = results[results.length - 1];
    expect(last.count).toBe(4);
    expect(last.values).toEqual({ ...expected, sd: expect.closeTo(Math.sqrt(125), 9) });
  });

  it('session merge combines accumulators (stddev, distinct, first/last) like a single pass', () => {
    const kit = setup([def({ type: 'session', gapMs: 3 }, { aggregations })], { maxOutOfOrdernessMs: 10 });
    kit.send(1, { accountId: 'a', amount: 1, merchant: 'x' });
    kit.send(9, { accountId: 'a', amount: 9, merchant: 'y' });
    kit.send(5, { accountId: 'a', amount: 5, merchant: 'x' }); // bridges [1,4) .. [9,12)? no: needs 4..8 gaps ≤ 3
    kit.send(3, { accountId: 'a', amount: 3, merchant: 'z' });
    kit.send(7, { accountId: 'a', amount: 7, merchant: 'z' });
    kit.send(100, { accountId: 'b', amount: 0 });
    const [result] = kit.op.drain().results;
    expect(brief(result)).toBe('w|a [1,12) n=5 v1 F');
    expect(result.values).toEqual({ n: 5, withCard: 0, total: 25, lo: 1, hi: 9, mean: 5, sd: expect.closeTo(Math.sqrt(8), 9), merchants: 3, firstMerchant: 'x', lastMerchant: 'y' });
  });
});

describe('PartitionWindowOperator — restore', () => {
  const definitions: WindowDefinition[] = [
    def({ type: 'tumbling', sizeMs: 10 }, { name: 'tumble', allowedLatenessMs: 5, emit: 'update', aggregations: [{ name: 's', fn: 'sum', field: 'amount' }, { name: 'f', fn: 'first', field: 'amount' }] }),
    def({ type: 'hopping', sizeMs: 20, advanceMs: 5 }, { name: 'hop', aggregations: [{ name: 'sd', fn: 'stddev', field: 'amount' }] }),
    def({ type: 'session', gapMs: 7 }, { name: 'sess', emit: 'update', allowedLatenessMs: 3 }),
    def({ type: 'sliding', sizeMs: 15 }, { name: 'slide', aggregations: [{ name: 'd', fn: 'countDistinct', field: 'amount' }] }),
    def({ type: 'count', size: 3 }, { name: 'cnt', emit: 'update' }),
  ];
  const stream: Array<[string, number, string, number]> = [];
  let x = 7;
  for (let i = 0; i < 80; i++) {
    x = (x * 48271) % 2147483647;
    const id = i % 11 === 10 ? `id${i - 3}` : `id${i}`; // some duplicates
    stream.push([id, i * 3 + (x % 25) - 12, `k${x % 3}`, x % 50]);
  }
  const options = { maxOutOfOrdernessMs: 8, idleTimeoutMs: 50, maxFutureSkewMs: 500, dedupHorizonMs: 4 };

  function run(cutAt: number | undefined): string[] {
    const clock = new ManualClock(0);
    let store = new InMemoryWindowStateStore();
    const database = new Map<string, string>(); // what the caller would persist: JSON text per key
    let op = new PartitionWindowOperator({ ...options, definitions, clock }, store);
    const log: string[] = [];
    stream.forEach(([eventId, eventTime, accountId, amount], i) => {
      if (i === cutAt) {
        store = new InMemoryWindowStateStore([...database].map(([k, v]) => [k, JSON.parse(v)] as [string, unknown]));
        op = new PartitionWindowOperator({ ...options, definitions, clock }, store);
      }
      clock.advance(i % 13 === 12 ? 60 : 2);
      op.process({ eventId, eventTime, value: { accountId, amount }, offset: String(i) });
      op.onProgress({ source: 'events.raw/0', time: clock.now(), of: 1 });
      const out = op.drain();
      log.push(`#${i} wm=${op.watermark} open=${op.openWindowCount()}`, ...out.results.map((r) => JSON.stringify(r)), ...out.late.map((l) => JSON.stringify(l)), `dup=${out.duplicates}`);
      const changes = store.takeChanges();
      for (const [k, v] of changes.upserts) database.set(k, JSON.stringify(v));
      for (const k of changes.deletes) database.delete(k);
    });
    clock.advance(1000);
    op.onProgress({ source: 'events.raw/0', time: clock.now(), of: 1 });
    log.push(...op.drain().results.map((r) => JSON.stringify(r)), `dedup=${op.stats().dedupEntries}`, `open=${op.openWindowCount()}`);
    return log;
  }

  it('restoring from persisted deltas mid-stream gives identical output to an uninterrupted run', () => {
    const reference = run(undefined);
    expect(reference.filter((l) => l.includes('"final":true')).length).toBeGreaterThan(20);
    expect(reference.some((l) => l.includes('TOO_LATE'))).toBe(true);
    for (const cut of [1, 5, 17, 33, 40, 41, 62, 79]) expect(run(cut)).toEqual(reference);
  });

  it('every stored value survives a JSON round trip unchanged', () => {
    const clock = new ManualClock(0);
    const store = new InMemoryWindowStateStore();
    const op = new PartitionWindowOperator({ ...options, definitions, clock }, store);
    for (const [eventId, eventTime, accountId, amount] of stream.slice(0, 40)) {
      op.process({ eventId, eventTime, value: { accountId, amount }, offset: '0' });
      for (const [key, value] of store.entries()) expect([key, JSON.parse(JSON.stringify(value))]).toEqual([key, value]);
    }
  });
});

describe('PartitionWindowOperator — records for one definition (repartitioned input)', () => {
  const byAccount = def({ type: 'tumbling', sizeMs: 10 }, { name: 'acct' });
  const byMerchant = def({ type: 'tumbling', sizeMs: 10 }, { name: 'merch', groupBy: ['merchantId'] });

  it('applies a record naming a definition to that definition only; the same event per definition is not a duplicate', () => {
    const { op } = setup([byAccount, byMerchant]);
    const value = { accountId: 'a', merchantId: 'm' };
    op.process({ eventId: 'e1', dedupKey: 'merch|e1', definition: 'merch', eventTime: 1, value, offset: '1' });
    op.process({ eventId: 'e1', dedupKey: 'acct|e1', definition: 'acct', eventTime: 2, value, offset: '2' });
    op.process({ eventId: 'e1', dedupKey: 'merch|e1', definition: 'merch', eventTime: 3, value, offset: '3' }); // redelivered
    op.process({ eventId: 'e2', dedupKey: 'merch|e2', definition: 'merch', eventTime: 10, value, offset: '4' });
    expect(render(op.drain())).toEqual(['acct|a [0,10) n=1 v1 F', 'merch|m [0,10) n=1 v1 F', 'DUP x1']);
  });

  it('reports a record for a definition it does not run as invalid, without counting it anywhere', () => {
    const { op } = setup([byAccount]);
    op.process({ eventId: 'e1', definition: 'merch', eventTime: 1, value: { accountId: 'a', merchantId: 'm' }, offset: '1' });
    op.process({ eventId: 'e2', definition: '', eventTime: 1, value: { accountId: 'a' }, offset: '2' });
    expect(render(op.drain())).toEqual(['INVALID e1 merch: not a definition of this operator', 'INVALID e2 definition must be a non-empty string when present']);
    expect(op.watermark).toBe(-Infinity);
  });
});
