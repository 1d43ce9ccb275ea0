/**
 * Who may see and manage which rule. A rule is either global (`tenantId` absent: it applies to every tenant's
 * events) or belongs to one tenant (it applies to that tenant's events only).
 *
 * - A platform admin (an `admin` key of the platform tenant) sees and manages every rule; its new rules are global.
 * - Any other tenant's admin sees the global rules and its own, creates rules for its own tenant, and changes or
 *   deletes only its own. Changing a global rule is refused (`global-rule`).
 * - Another tenant's rule is invisible: it is answered exactly like a rule that does not exist (`not-found`), so
 *   no tenant learns anything about another's rules. Rule ids are unique per owner, so creating an id that another
 *   tenant uses succeeds like any free id; only the ids of the caller's own rules and of the global rules (both
 *   visible to it) are taken.
 */
import { isPlatformAdmin, type Principal } from '@streamguard/common';
import type { RuleDefinition } from '@streamguard/stream-core';

export function canSeeRule(caller: Principal, rule: Pick<RuleDefinition, 'tenantId'>): boolean {
  return isPlatformAdmin(caller) || rule.tenantId === undefined || rule.tenantId === caller.tenantId;
}

export type RuleChangeDecision = 'allowed' | 'not-found' | 'global-rule';

/** May `caller` replace or delete `rule`? */
export function decideRuleChange(caller: Principal, rule: Pick<RuleDefinition, 'tenantId'>): RuleChangeDecision {
  if (isPlatformAdmin(caller)) return 'allowed';
  if (rule.tenantId === undefined) return 'global-rule';
  return rule.tenantId === caller.tenantId ? 'allowed' : 'not-found';
}

/** The tenant a rule created by `caller` belongs to: undefined (global) for the platform, else the caller's tenant. */
export function tenantOfNewRule(caller: Principal): string | undefined {
  return isPlatformAdmin(caller) ? undefined : caller.tenantId;
}
