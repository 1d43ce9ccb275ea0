/**
 * Aggregators in the Flink `AggregateFunction` shape: `initialize / add / merge / result`. Accumulators are
 * plain JSON (numbers, arrays, null) so window state survives `JSON.stringify` → `JSON.parse`, and `add` /
 * `merge` return new accumulators instead of mutating, so a state object is only changed by an explicit put.
 */
import { approxDistinctAdd, approxDistinctMerge, approxDistinctResult, ApproxDistinctState, sortedIndex } from './approx-distinct';
import type { AggregationFn, AggregationSpec } from './window-definition';
import { isFieldScalar, readFieldPath, toFiniteNumber, type FieldScalar } from './record-fields';

export type AggregateValue = number | string | null;

/** One extracted field value (null = absent) plus the ordering data first/last need. */
export interface AggregatorInput {
  value: FieldScalar | null;
  eventTime: number;
  /** Per-partition arrival sequence number: breaks event-time ties for first/last. */
  arrival: number;
}

export interface WindowAggregator<A> {
  /** Numeric aggregators make a record invalid when the field is missing or not a finite number. */
  readonly numeric: boolean;
  initialize(): A;
  add(acc: A, input: AggregatorInput): A;
  /** Combines two accumulators (session merges); must be associative and commutative. */
  merge(a: A, b: A): A;
  result(acc: A): AggregateValue;
}

const count: WindowAggregator<number> = {
  numeric: false,
  initialize: () => 0,
  add: (acc, { value }) => (value === null ? acc : acc + 1),
  merge: (a, b) => a + b,
  result: (acc) => acc,
};

const sum: WindowAggregator<number> = {
  numeric: true,
  initialize: () => 0,
  add: (acc, { value }) => acc + (value as number),
  merge: (a, b) => a + b,
  result: (acc) => acc,
};

const extremum = (pick: (a: number, b: number) => number): WindowAggregator<number | null> => ({
  numeric: true,
  initialize: () => null,
  add: (acc, { value }) => (acc === null ? (value as number) : pick(acc, value as number)),
  merge: (a, b) => (a === null ? b : b === null ? a : pick(a, b)),
  result: (acc) => acc,
});

/** [sum, n] */
const avg: WindowAggregator<[number, number]> = {
  numeric: true,
  initialize: () => [0, 0],
  add: ([s, n], { value }) => [s + (value as number), n + 1],
  merge: (a, b) => [a[0] + b[0], a[1] + b[1]],
  result: ([s, n]) => (n === 0 ? null : s / n),
};

/**
 * Population standard deviation (divide by n, not n - 1: a window is the whole population, and a single
 * record gives 0 rather than null). Welford's online update and Chan's parallel merge, as [n, mean, m2],
 * to avoid the catastrophic cancellation of sum-of-squares on large amounts.
 */
const stddev: WindowAggregator<[number, number, number]> = {
  numeric: true,
  initialize: () => [0, 0, 0],
  add: ([n, mean, m2], { value }) => {
    const x = value as number;
    const n1 = n + 1;
    const delta = x - mean;
    const mean1 = mean + delta / n1;
    return [n1, mean1, m2 + delta * (x - mean1)];
  },
  merge: (a, b) => {
    if (a[0] === 0) return b;
    if (b[0] === 0) return a;
    const n = a[0] + b[0];
    const delta = b[1] - a[1];
    return [n, a[1] + (delta * b[0]) / n, a[2] + b[2] + (delta * delta * a[0] * b[0]) / n];
  },
  result: ([n, , m2]) => (n === 0 ? null : Math.sqrt(Math.max(0, m2 / n))),
};

/**
 * Sorted array of JSON-encoded distinct values (JSON keeps 1 and '1' apart). Exact, so its size is bounded
 * by the number of distinct values in the window, not by a sketch size.
 */
const countDistinct: WindowAggregator<string[]> = {
  numeric: false,
  initialize: () => [],
  add: (acc, { value }) => (value === null ? acc : insertSorted(acc, JSON.stringify(value))),
  merge: (a, b) => b.reduce(insertSorted, a),
  result: (acc) => acc.length,
};

/** Exact while small, then a HyperLogLog sketch of fixed size (see approx-distinct.ts). */
const approxCountDistinct: WindowAggregator<ApproxDistinctState> = {
  numeric: false,
  initialize: () => [],
  add: (acc, { value }) => (value === null ? acc : approxDistinctAdd(acc, JSON.stringify(value))),
  merge: approxDistinctMerge,
  result: approxDistinctResult,
};

type Ranked = [eventTime: number, arrival: number, value: FieldScalar] | null;
/** first / last by event time, ties broken by arrival order (earlier arrival is "first"). */
const byEventTime = (keepFirst: boolean): WindowAggregator<Ranked> => {
  const before = (a: NonNullable<Ranked>, b: NonNullable<Ranked>) => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
  const pick = (a: Ranked, b: Ranked): Ranked => (a === null ? b : b === null ? a : before(a, b) === keepFirst ? a : b);
  return {
    numeric: false,
    initialize: () => null,
    add: (acc, { value, eventTime, arrival }) => (value === null ? acc : pick(acc, [eventTime, arrival, value])),
    merge: pick,
    result: (acc) => (acc === null ? null : typeof acc[2] === 'boolean' ? String(acc[2]) : acc[2]),
  };
};

export const WINDOW_AGGREGATORS: Readonly<Record<AggregationFn, WindowAggregator<unknown>>> = {
  count,
  sum,
  min: extremum(Math.min),
  max: extremum(Math.max),
  avg,
  stddev,
  countDistinct,
  approxCountDistinct,
  first: byEventTime(true),
  last: byEventTime(false),
} as Record<AggregationFn, WindowAggregator<never>>;

function insertSorted(sorted: string[], item: string): string[] {
  const index = sortedIndex(sorted, item);
  if (sorted[index] === item) return sorted;
  return [...sorted.slice(0, index), item, ...sorted.slice(index)];
}

/** Accumulators of one window: one JSON value per aggregation, in definition order. */
export type Accumulators = unknown[];
/** Field values of one record, one per aggregation, as extracted once on arrival. */
export type RecordInputs = Array<FieldScalar | null>;

/** The aggregations of one definition, applied together. */
export class AggregationPlan {
  private readonly aggregators: WindowAggregator<unknown>[];

  constructor(private readonly specs: readonly AggregationSpec[]) {
    this.aggregators = specs.map((spec) => WINDOW_AGGREGATORS[spec.fn]);
  }

  /** Reads every aggregation field; a numeric aggregation over a missing / non-numeric value is an error. */
  extract(value: Readonly<Record<string, unknown>>): { ok: true; inputs: RecordInputs } | { ok: false; reason: string } {
    const inputs: RecordInputs = [];
    for (let i = 0; i < this.specs.length; i++) {
      const spec = this.specs[i];
      if (spec.field === undefined) {
        inputs.push(1); // count(*) counts the record itself
        continue;
      }
      const raw = readFieldPath(value, spec.field);
      if (this.aggregators[i].numeric) {
        const n = toFiniteNumber(raw);
        if (n === undefined) return { ok: false, reason: `field '${spec.field}' of aggregation '${spec.name}' (${spec.fn}) is not numeric` };
        inputs.push(n);
      } else if (raw === undefined || raw === null) {
        inputs.push(null);
      } else if (isFieldScalar(raw)) {
        inputs.push(raw);
      } else {
        return { ok: false, reason: `field '${spec.field}' of aggregation '${spec.name}' (${spec.fn}) is not a scalar` };
      }
    }
    return { ok: true, inputs };
  }

  initialize(): Accumulators {
    return this.aggregators.map((a) => a.initialize());
  }

  add(accs: Accumulators, inputs: RecordInputs, eventTime: number, arrival: number): Accumulators {
    return this.aggregators.map((a, i) => a.add(accs[i], { value: inputs[i], eventTime, arrival }));
  }

  merge(a: Accumulators, b: Accumulators): Accumulators {
    return this.aggregators.map((agg, i) => agg.merge(a[i], b[i]));
  }

  results(accs: Accumulators): Record<string, AggregateValue> {
    const values: Record<string, AggregateValue> = {};
    this.aggregators.forEach((a, i) => (values[this.specs[i].name] = a.result(accs[i])));
    return values;
  }
}
