import fc from 'fast-check';
import { ManualClock } from '../time/clock';
import type { WindowDefinition, WindowSpec } from './window-definition';
import { PartitionWindowOperator, type WindowOperatorOptions } from './window-operator';
import type { DrainedOutput } from './window-output';
import { InMemoryWindowStateStore } from './window-state-store';

// Random out-of-order streams with duplicates, checked against brute-force oracles and against a
// snapshot/restore at a random cut point. Bounded so the whole file runs in a few seconds.

interface Ev {
  eventId: string;
  eventTime: number;
  key: string;
  amount: number;
}

const rawEvents = fc.array(
  fc.record({
    step: fc.integer({ min: 0, max: 6 }),
    jitter: fc.integer({ min: 0, max: 30 }),
    key: fc.constantFrom('a', 'b', 'c'),
    amount: fc.integer({ min: -5, max: 20 }),
    dupOf: fc.option(fc.nat(), { nil: undefined }),
  }),
  { maxLength: 40 },
);

/** Builds a stream; with `maxDisorder` set, no (non-duplicate) record is more out of order than that. */
type RawEvent = { step: number; jitter: number; key: string; amount: number; dupOf: number | undefined };
function buildStream(raw: RawEvent[], maxDisorder?: number): Ev[] {
  const stream: Ev[] = [];
  let base = 0;
  raw.forEach((r, i) => {
    base += r.step;
    if (r.dupOf !== undefined && stream.length > 0) {
      stream.push({ ...stream[r.dupOf % stream.length] });
      return;
    }
    const jitter = maxDisorder === undefined ? r.jitter : Math.min(r.jitter, maxDisorder);
    stream.push({ eventId: `id${i}`, eventTime: base - jitter, key: r.key, amount: r.amount });
  });
  return stream;
}

const metrics = [
  { name: 'sum', fn: 'sum' as const, field: 'amount' },
  { name: 'min', fn: 'min' as const, field: 'amount' },
  { name: 'max', fn: 'max' as const, field: 'amount' },
];
function def(name: string, window: WindowSpec, allowedLatenessMs: number, emit: 'final' | 'update' = 'final'): WindowDefinition {
  return { name, groupBy: ['key'], window, aggregations: metrics, allowedLatenessMs, emit };
}

function runAll(definitions: WindowDefinition[], stream: Ev[], options: Partial<WindowOperatorOptions>, cutAt?: number): DrainedOutput {
  const clock = new ManualClock(1_000_000);
  const full = { maxOutOfOrdernessMs: 0, idleTimeoutMs: 1, maxFutureSkewMs: 0, ...options, definitions, clock };
  let store = new InMemoryWindowStateStore();
  let op = new PartitionWindowOperator(full, store);
  const out: DrainedOutput = { results: [], late: [], invalid: [], duplicates: 0 };
  const collect = () => {
    const d = op.drain();
    out.results.push(...d.results);
    out.late.push(...d.late);
    out.invalid.push(...d.invalid);
    out.duplicates += d.duplicates;
  };
  stream.forEach((e, i) => {
    if (i === cutAt) {
      collect();
      store = new InMemoryWindowStateStore(JSON.parse(JSON.stringify(store.entries())) as Array<[string, unknown]>);
      op = new PartitionWindowOperator(full, store);
    }
    // Ingested at its event time: a live stream, so the idle rule applies to it.
    op.process({ eventId: e.eventId, eventTime: e.eventTime, value: { key: e.key, amount: e.amount }, offset: String(i), ingestTime: e.eventTime });
  });
  // Idle: a progress marker far ahead → watermark jumps far ahead → everything closes.
  op.onProgress({ source: 'events.raw/0', time: Math.max(...stream.map((e) => e.eventTime), 0) + 10_000_000, of: 1 });
  collect();
  // Only partial count windows may stay open after the watermark jumped past everything.
  if (!definitions.some((d) => d.window.type === 'count')) expect(op.openWindowCount()).toBe(0);
  return out;
}

type Row = { def: string; key: string; start: number; end: number; amounts: number[] };
const renderRow = (r: Row) => `${r.def}|${r.key}|[${r.start},${r.end})|n=${r.amounts.length}|sum=${r.amounts.reduce((a, b) => a + b, 0)}|min=${Math.min(...r.amounts)}|max=${Math.max(...r.amounts)}`;
const renderResults = (out: DrainedOutput) =>
  out.results
    .filter((r) => r.final)
    .map((r) => `${r.definition}|${r.groupKey}|[${r.windowStart},${r.windowEnd})|n=${r.count}|sum=${r.values.sum}|min=${r.values.min}|max=${r.values.max}`)
    .sort();

/** Records a definition counted: first occurrence of each eventId, minus those reported late for it. */
function acceptedBy(definition: string, stream: Ev[], out: DrainedOutput): Ev[] {
  const late = new Set(out.late.filter((l) => l.definition === definition).map((l) => l.eventId));
  const seen = new Set<string>();
  return stream.filter((e) => !seen.has(e.eventId) && (seen.add(e.eventId), !late.has(e.eventId)));
}

/** Brute-force aligned windows containing t (independent of window-assigner.ts). */
function fixedWindowsOf(t: number, sizeMs: number, adv: number, offset: number): number[] {
  const starts: number[] = [];
  for (let k = Math.floor((t - sizeMs) / adv) - 2; k <= Math.floor(t / adv) + 2; k++) {
    const start = k * adv + offset;
    if (start <= t && t < start + sizeMs) starts.push(start);
  }
  return starts;
}

/**
 * Replays the stream with its own watermark (max event time - ooo): a record joins each of its fixed windows
 * that is still open (end + lateness > watermark); with none open it must be reported late for that definition.
 */
function fixedWindowOracle(defs: WindowDefinition[], stream: Ev[], ooo: number): { rows: string[]; late: Map<string, Set<string>> } {
  let watermark = -Infinity;
  const counted = new Set<string>();
  const windows = new Map<string, Row>();
  const late = new Map(defs.map((d) => [d.name, new Set<string>()]));
  for (const e of stream) {
    if (counted.has(e.eventId)) continue;
    for (const d of defs) {
      const w = d.window as { sizeMs: number; advanceMs?: number; offsetMs?: number };
      const open = fixedWindowsOf(e.eventTime, w.sizeMs, w.advanceMs ?? w.sizeMs, w.offsetMs ?? 0).filter((start) => start + w.sizeMs + d.allowedLatenessMs > watermark);
      if (open.length === 0) late.get(d.name)?.add(e.eventId);
      else counted.add(e.eventId);
      for (const start of open) {
        const id = `${d.name}|${e.key}|${start}`;
        const row = windows.get(id) ?? { def: d.name, key: e.key, start, end: start + w.sizeMs, amounts: [] };
        row.amounts.push(e.amount);
        windows.set(id, row);
      }
    }
    watermark = Math.max(watermark, e.eventTime - ooo);
  }
  return { rows: [...windows.values()].map(renderRow).sort(), late };
}

function oracle(d: WindowDefinition, events: Ev[]): string[] {
  const rows: Row[] = [];
  const byKey = new Map<string, Ev[]>();
  for (const e of events) byKey.set(e.key, [...(byKey.get(e.key) ?? []), e]);
  for (const [key, evs] of byKey) {
    const w = d.window;
    if (w.type === 'tumbling' || w.type === 'hopping') {
      const adv = w.type === 'hopping' ? w.advanceMs : w.sizeMs;
      const windows = new Map<number, number[]>();
      for (const e of evs) {
        // brute force: every aligned start near t, kept if it contains t
        for (let k = Math.floor((e.eventTime - w.sizeMs) / adv) - 2; k <= Math.floor(e.eventTime / adv) + 2; k++) {
          const start = k * adv + (w.offsetMs ?? 0);
          if (start <= e.eventTime && e.eventTime < start + w.sizeMs) windows.set(start, [...(windows.get(start) ?? []), e.amount]);
        }
      }
      for (const [start, amounts] of windows) rows.push({ def: d.name, key, start, end: start + w.sizeMs, amounts });
    } else if (w.type === 'session') {
      const sorted = [...evs].sort((a, b) => a.eventTime - b.eventTime);
      let cur: { first: number; last: number; amounts: number[] } | undefined;
      for (const e of sorted) {
        if (cur && e.eventTime - cur.last <= w.gapMs) {
          cur.last = e.eventTime;
          cur.amounts.push(e.amount);
          continue;
        }
        if (cur) rows.push({ def: d.name, key, start: cur.first, end: cur.last + w.gapMs, amounts: cur.amounts });
        cur = { first: e.eventTime, last: e.eventTime, amounts: [e.amount] };
      }
      if (cur) rows.push({ def: d.name, key, start: cur.first, end: cur.last + w.gapMs, amounts: cur.amounts });
    } else if (w.type === 'sliding') {
      for (const t of new Set(evs.map((e) => e.eventTime))) {
        const amounts = evs.filter((e) => e.eventTime >= t - w.sizeMs && e.eventTime <= t).map((e) => e.amount);
        rows.push({ def: d.name, key, start: t - w.sizeMs, end: t + 1, amounts });
      }
    }
  }
  return rows.map(renderRow);
}

describe('PartitionWindowOperator — properties', () => {
  it('tumbling + hopping final results equal a brute-force oracle over the records not reported late', () => {
    fc.assert(
      fc.property(
        rawEvents,
        fc.integer({ min: 0, max: 15 }),
        fc.integer({ min: 0, max: 15 }),
        fc.integer({ min: 2, max: 12 }),
        fc.integer({ min: 1, max: 4 }),
        (raw, ooo, lateness, size, hops) => {
          const stream = buildStream(raw);
          const defs = [def('tumble', { type: 'tumbling', sizeMs: size, offsetMs: size - 1 }, lateness), def('hop', { type: 'hopping', sizeMs: size * hops, advanceMs: size }, lateness)];
          const out = runAll(defs, stream, { maxOutOfOrdernessMs: ooo });
          const expected = fixedWindowOracle(defs, stream, ooo);
          expect(renderResults(out)).toEqual(expected.rows);
          for (const d of defs) {
            const reported = new Set(out.late.filter((l) => l.definition === d.name).map((l) => l.eventId));
            for (const id of expected.late.get(d.name) ?? []) expect(reported.has(id)).toBe(true);
          }
          // every late report is justified: its window had closed at the reported watermark
          for (const l of out.late) expect(l.watermark).toBeGreaterThanOrEqual((l.windowEnd as number) + lateness);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('with bounded disorder nothing is late, and tumbling, hopping, session and sliding equal the oracle', () => {
    fc.assert(
      fc.property(rawEvents, fc.integer({ min: 0, max: 10 }), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 12 }), (raw, ooo, lateness, size) => {
        const stream = buildStream(raw, ooo);
        const defs = [
          def('tumble', { type: 'tumbling', sizeMs: size }, 0),
          def('hop', { type: 'hopping', sizeMs: size * 2, advanceMs: size }, 0),
          def('session', { type: 'session', gapMs: size }, lateness), // lateness >= 1: see SEMANTICS.md on touching sessions
          def('slide', { type: 'sliding', sizeMs: size }, 0),
        ];
        const out = runAll(defs, stream, { maxOutOfOrdernessMs: ooo, dedupHorizonMs: 1_000 });
        expect(out.late).toEqual([]);
        expect(out.duplicates).toBe(stream.length - new Set(stream.map((e) => e.eventId)).size);
        const expected = defs.flatMap((d) => oracle(d, acceptedBy(d.name, stream, out))).sort();
        expect(renderResults(out)).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  });

  it('snapshot/restore (JSON round trip) at a random cut point gives identical output, for every window type', () => {
    fc.assert(
      fc.property(rawEvents, fc.nat(), fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 8 }), (raw, cut, ooo, lateness) => {
        const stream = buildStream(raw);
        const defs = [
          def('tumble', { type: 'tumbling', sizeMs: 7 }, lateness, 'update'),
          def('hop', { type: 'hopping', sizeMs: 9, advanceMs: 3 }, lateness),
          def('session', { type: 'session', gapMs: 4 }, lateness, 'update'),
          def('slide', { type: 'sliding', sizeMs: 6 }, lateness, 'update'),
          def('count', { type: 'count', size: 3 }, 0, 'update'),
        ];
        const options = { maxOutOfOrdernessMs: ooo, dedupHorizonMs: 5 };
        const reference = runAll(defs, stream, options);
        expect(runAll(defs, stream, options, cut % (stream.length + 1))).toEqual(reference);
      }),
      { numRuns: 150 },
    );
  });
});
