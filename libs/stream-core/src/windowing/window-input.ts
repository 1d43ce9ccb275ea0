/** The per-definition check the window operator applies to every record, usable before the operator too. */
import { AggregationPlan, type RecordInputs } from './aggregators';
import { extractGroup, type FieldScalar } from './record-fields';
import type { WindowDefinition } from './window-definition';

export type WindowInput =
  | { ok: true; groupKey: string; group: Record<string, FieldScalar>; inputs: RecordInputs }
  | { ok: false; reason: string };

/**
 * Reads a record's group and aggregation inputs for one definition. Not ok when a group-by field is missing,
 * null or not a scalar, or a numeric aggregation's field is not numeric: the record is then invalid for this
 * definition (the operator reports it; it is never counted).
 */
export function checkWindowInput(definition: WindowDefinition, plan: AggregationPlan, value: Readonly<Record<string, unknown>>): WindowInput {
  const group = extractGroup(value, definition.groupBy);
  if (!group.ok) return group;
  const fields = plan.extract(value);
  if (!fields.ok) return fields;
  return { ok: true, groupKey: group.groupKey, group: group.group, inputs: fields.inputs };
}

/** {@link checkWindowInput} for callers outside the operator: returns the group key, or why the record is invalid. */
export function windowInputChecker(definition: WindowDefinition): (value: Readonly<Record<string, unknown>>) => { ok: true; groupKey: string } | { ok: false; reason: string } {
  const plan = new AggregationPlan(definition.aggregations);
  return (value) => {
    const input = checkWindowInput(definition, plan, value);
    return input.ok ? { ok: true, groupKey: input.groupKey } : input;
  };
}
