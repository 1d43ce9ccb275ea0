import { type Database, type Logger, type Queryable, TENANT_ID_PATTERN } from '@streamguard/common';
import { RuleDefinition, validateRule } from '@streamguard/stream-core';

export const RULES_CHANNEL = 'streamguard_rules';

interface RuleRow {
  rule_id: string;
  tenant_id: string | null;
  definition: unknown;
}

/**
 * Why {@link RulesRepository.insert} did not create the rule.
 * - `exists`: the owner already has a rule with this id.
 * - `global-rule`: a tenant rule would share its id with a global rule (both would run on the tenant's events).
 * - `tenant-rule`: a global rule would share its id with these tenants' rules.
 * - `limit-reached`: the tenant already owns `maxRulesPerTenant` rules.
 */
export type RuleInsertRefusal =
  | { reason: 'exists' | 'global-rule' }
  | { reason: 'tenant-rule'; tenants: string[] }
  | { reason: 'limit-reached'; limit: number };

/** Serialises rule inserts (rare admin calls), so the cross-owner id checks and the per-tenant count cannot race. */
const RULE_INSERT_LOCK_ID = 4242_0007;

/** Selects one owner's rule: the `rules_owner_id` unique index is on ((coalesce(tenant_id, '')), rule_id). */
const BY_OWNER_AND_ID = `coalesce(tenant_id, '') = $2 AND rule_id = $1`;

/**
 * `rules` table. Every write notifies `streamguard_rules` so all alert instances reload at once.
 *
 * The owner lives in `tenant_id` (NULL = a global rule), never in `definition`: rules read from here carry it
 * as their runtime `tenantId`, and the stored definition is always the rule without it. Rule ids are unique per
 * owner (`rules_owner_id`): tenants `acme` and `globex` may both have a rule `velocity`, so every single-rule
 * operation names the owner (`undefined` = the global rule). A tenant rule and a global rule never share an id
 * (see {@link insert}).
 */
export class RulesRepository {
  constructor(private readonly db: Database, private readonly logger: Logger) {}

  /** All stored rules that validate; an invalid stored row is logged and skipped, never fatal. */
  async loadAll(db: Queryable = this.db): Promise<RuleDefinition[]> {
    const { rows } = await db.query<RuleRow>('SELECT rule_id, tenant_id, definition FROM rules ORDER BY rule_id, tenant_id NULLS FIRST');
    const rules: RuleDefinition[] = [];
    for (const row of rows) {
      const rule = this.fromRow(row);
      if (rule) rules.push(rule);
    }
    return rules;
  }

  /** The rule `ruleId` of `owner` (a tenant id; undefined: the global rule). Callers decide who may see it. */
  async find(ruleId: string, owner: string | undefined): Promise<RuleDefinition | undefined> {
    const { rows } = await this.db.query<RuleRow>(`SELECT rule_id, tenant_id, definition FROM rules WHERE ${BY_OWNER_AND_ID}`, [ruleId, owner ?? '']);
    return rows.length === 0 ? undefined : this.fromRow(rows[0]);
  }

  /**
   * Inserts a new rule owned by `owner` (undefined: global); the refusal when it is not created. A tenant rule may
   * not take a global rule's id and a global rule may not take any tenant rule's id, so the rules that run on one
   * tenant's events (the global ones and its own) never share an id. A tenant owns at most `maxRulesPerTenant`.
   */
  async insert(rule: RuleDefinition, owner: string | undefined, limits: { maxRulesPerTenant: number }): Promise<RuleInsertRefusal | undefined> {
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [RULE_INSERT_LOCK_ID]);
      const { rows: owners } = await tx.query<{ tenant_id: string | null }>('SELECT tenant_id FROM rules WHERE rule_id = $1', [rule.id]);
      if (owners.some((o) => o.tenant_id === (owner ?? null))) return { reason: 'exists' };
      if (owner === undefined && owners.length > 0) return { reason: 'tenant-rule', tenants: owners.map((o) => o.tenant_id!).sort() };
      if (owner !== undefined && owners.some((o) => o.tenant_id === null)) return { reason: 'global-rule' };
      if (owner !== undefined) {
        const { rows } = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM rules WHERE coalesce(tenant_id, '') = $1`, [owner]);
        if (rows[0].n >= limits.maxRulesPerTenant) return { reason: 'limit-reached', limit: limits.maxRulesPerTenant };
      }
      const { rowCount } = await tx.query(
        `INSERT INTO rules (rule_id, version, type, status, definition, tenant_id) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT ((coalesce(tenant_id, '')), rule_id) DO NOTHING`,
        [rule.id, rule.version, rule.type, rule.status, definitionJson(rule), owner ?? null],
      );
      if (rowCount === 0) return { reason: 'exists' };
      await tx.query(`SELECT pg_notify('${RULES_CHANNEL}', $1)`, [rule.id]);
      return undefined;
    });
  }

  /**
   * Replaces `owner`'s rule `ruleId`, bumping its version; undefined when it does not exist. `change` gets the
   * current rule (with its `tenantId`) under a row lock; throwing there rolls back. The owner never changes.
   */
  async update(ruleId: string, owner: string | undefined, change: (current: RuleDefinition) => RuleDefinition): Promise<RuleDefinition | undefined> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ definition: RuleDefinition; tenant_id: string | null }>(
        `SELECT definition, tenant_id FROM rules WHERE ${BY_OWNER_AND_ID} FOR UPDATE`, [ruleId, owner ?? ''],
      );
      if (rows.length === 0) return undefined;
      const tenantId = rows[0].tenant_id ?? undefined;
      const next = change(withTenant(rows[0].definition, tenantId));
      await tx.query(
        `UPDATE rules SET version = $3, type = $4, status = $5, definition = $6, updated_at = now() WHERE ${BY_OWNER_AND_ID}`,
        [ruleId, owner ?? '', next.version, next.type, next.status, definitionJson(next)],
      );
      await tx.query(`SELECT pg_notify('${RULES_CHANNEL}', $1)`, [ruleId]);
      return withTenant(next, tenantId);
    });
  }

  /**
   * Deletes `owner`'s rule `ruleId`; false when it does not exist. `check` gets the current rule (with its
   * `tenantId`) under a row lock before the delete; throwing there leaves the rule in place.
   */
  async delete(ruleId: string, owner: string | undefined, check: (current: RuleDefinition) => void = () => undefined): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ definition: RuleDefinition; tenant_id: string | null }>(
        `SELECT definition, tenant_id FROM rules WHERE ${BY_OWNER_AND_ID} FOR UPDATE`, [ruleId, owner ?? ''],
      );
      if (rows.length === 0) return false;
      check(withTenant(rows[0].definition, rows[0].tenant_id ?? undefined));
      await tx.query(`DELETE FROM rules WHERE ${BY_OWNER_AND_ID}`, [ruleId, owner ?? '']);
      await tx.query(`SELECT pg_notify('${RULES_CHANNEL}', $1)`, [ruleId]);
      return true;
    });
  }

  private fromRow(row: RuleRow): RuleDefinition | undefined {
    if (row.tenant_id !== null && !TENANT_ID_PATTERN.test(row.tenant_id)) {
      this.logger.error('stored rule has an invalid tenant_id; skipped', { ruleId: row.rule_id, tenantId: row.tenant_id });
      return undefined;
    }
    const result = validateRule(row.definition);
    if (!result.ok) {
      this.logger.error('stored rule is invalid; skipped', { ruleId: row.rule_id, errors: result.errors });
      return undefined;
    }
    return withTenant(result.rule, row.tenant_id ?? undefined);
  }
}

function withTenant(rule: RuleDefinition, tenantId: string | undefined): RuleDefinition {
  const { tenantId: _ignored, ...definition } = rule;
  return tenantId === undefined ? (definition as RuleDefinition) : ({ ...definition, tenantId } as RuleDefinition);
}

/** The stored definition: the rule without its runtime `tenantId` (which lives in its own column). */
function definitionJson(rule: RuleDefinition): string {
  const { tenantId: _owner, ...definition } = rule;
  return JSON.stringify(definition);
}
