import type { RuleDefinition } from './rule-definition';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Seed rules for the demo stack. Frozen: copy before editing (`structuredClone(DEFAULT_RULES)`).
 * - `large-amount`: any transaction above 10 000 USD (high).
 * - `velocity-1m`: more than 5 transactions for one account within 60 s of event time (medium), at most one
 *   alert per account per minute.
 */
export const DEFAULT_RULES: RuleDefinition[] = deepFreeze<RuleDefinition[]>([
  {
    id: 'large-amount',
    version: 1,
    name: 'Large amount',
    description: 'A single transaction above 10 000 USD.',
    severity: 'high',
    status: 'active',
    type: 'threshold',
    params: { field: 'amountUsd', op: '>', value: 10_000 },
  },
  {
    id: 'velocity-1m',
    version: 1,
    name: 'Velocity (1 minute)',
    description: 'More than 5 transactions for one account within 60 seconds.',
    severity: 'medium',
    status: 'active',
    cooldownMs: 60_000,
    type: 'aggregate',
    params: { groupBy: ['accountId'], aggregation: 'count', windowMs: 60_000, op: '>', limit: 5 },
  },
]);
