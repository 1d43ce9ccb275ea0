import { ACCOUNT_GROUP, groupKeyOf } from './group-key';
import type { RuleFiring } from './rule-context';
import type { BlocklistKind, ListRule, RuleEvent } from './rule-definition';

export interface BlocklistHit {
  kind: BlocklistKind;
  value: string;
  reason: string;
}

function readHits(x: unknown): BlocklistHit[] {
  if (!Array.isArray(x)) return [];
  const hits: BlocklistHit[] = [];
  for (const h of x) {
    // Malformed entries are skipped rather than failing the event: enrichment owns that shape.
    if (typeof h !== 'object' || h === null) continue;
    const { kind, value, reason } = h as Record<string, unknown>;
    if (typeof kind !== 'string' || typeof value !== 'string') continue;
    hits.push({ kind: kind as BlocklistKind, value, reason: typeof reason === 'string' ? reason : '' });
  }
  return hits;
}

/**
 * List: fires once per event whose `value.blocklistHits` holds at least one hit of `params.kinds`;
 * `observed.hits` lists the matching hits in their original order. Grouped by tenantId + accountId (ACCOUNT_GROUP).
 */
export function evaluateListRule(rule: ListRule, event: RuleEvent): RuleFiring | undefined {
  const kinds: readonly string[] = rule.params.kinds;
  const hits = readHits(event.value.blocklistHits).filter((h) => kinds.includes(h.kind));
  if (hits.length === 0) return undefined;
  const groupKey = groupKeyOf(event, ACCOUNT_GROUP);
  if (groupKey === undefined) return undefined;
  const listed = hits.map((h) => `${h.kind} ${h.value}${h.reason ? ` (${h.reason})` : ''}`).join(', ');
  return {
    groupKey,
    eventIds: [event.eventId],
    summary: `${hits.length} blocklist hit${hits.length === 1 ? '' : 's'} for ${groupKey}: ${listed}`,
    observed: { hits },
  };
}
