import { type Database, type Logger, type Queryable, TENANT_ID_PATTERN } from '@streamguard/common';
import { RuleDefinition, validateRule } from '@streamguard/stream-core';

export const RULES_CHANNEL = 'streamguard_rules';

interface RuleRow {
  rule_id: string;
  tenant_id: string | null;
  definition: unknown;
}

/**
 * `rules` table. Every write notifies `streamguard_rules` so all alert instances reload at once.
 *
 * The owner lives in `tenant_id` (NULL = a global rule), never in `definition`: rules read from here carry it
 * as their runtime `tenantId`, and the stored definition is always the rule without it. Rule ids are unique
 * across tenants (`rule_id` is the primary key).
 */
export class RulesRepository {
  constructor(private readonly db: Database, private readonly logger: Logger) {}

  /** All stored rules that validate; an invalid stored row is logged and skipped, never fatal. */
  async loadAll(db: Queryable = this.db): Promise<RuleDefinition[]> {
    const { rows } = await db.query<RuleRow>('SELECT rule_id, tenant_id, definition FROM rules ORDER BY rule_id');
    const rules: RuleDefinition[] = [];
    for (const row of rows) {
      const rule = this.fromRow(row);
      if (rule) rules.push(rule);
    }
    return rules;
  }

  /** The rule with this id, whoever owns it (callers decide who may see it). */
  async find(ruleId: string): Promise<RuleDefinition | undefined> {
    const { rows } = await this.db.query<RuleRow>('SELECT rule_id, tenant_id, definition FROM rules WHERE rule_id = $1', [ruleId]);
    return rows.length === 0 ? undefined : this.fromRow(rows[0]);
  }

  /** Inserts a new rule owned by `tenantId` (undefined: global); false when the id exists, for any tenant. */
  async insert(rule: RuleDefinition, tenantId: string | undefined): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const { rowCount } = await tx.query(
        'INSERT INTO rules (rule_id, version, type, status, definition, tenant_id) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING',
        [rule.id, rule.version, rule.type, rule.status, definitionJson(rule), tenantId ?? null],
      );
      if (rowCount > 0) await tx.query(`SELECT pg_notify('${RULES_CHANNEL}', $1)`, [rule.id]);
      return rowCount > 0;
    });
  }

  /**
   * Replaces a rule, bumping its version; undefined when it does not exist. `change` gets the current rule (with
   * its `tenantId`) under a row lock; throwing there rolls back. The owner never changes.
   */
  async update(ruleId: string, change: (current: RuleDefinition) => RuleDefinition): Promise<RuleDefinition | undefined> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ definition: RuleDefinition; tenant_id: string | null }>(
        'SELECT definition, tenant_id FROM rules WHERE rule_id = $1 FOR UPDATE', [ruleId],
      );
      if (rows.length === 0) return undefined;
      const tenantId = rows[0].tenant_id ?? undefined;
      const next = change(withTenant(rows[0].definition, tenantId));
      await tx.query(
        'UPDATE rules SET version = $2, type = $3, status = $4, definition = $5, updated_at = now() WHERE rule_id = $1',
        [ruleId, next.version, next.type, next.status, definitionJson(next)],
      );
      await tx.query(`SELECT pg_notify('${RULES_CHANNEL}', $1)`, [ruleId]);
      return withTenant(next, tenantId);
    });
  }

  /**
   * Deletes a rule; false when it does not exist. `check` gets the current rule (with its `tenantId`) under a row
   * lock before the delete; throwing there leaves the rule in place.
   */
  async delete(ruleId: string, check: (current: RuleDefinition) => void = () => undefined): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ definition: RuleDefinition; tenant_id: string | null }>(
        'SELECT definition, tenant_id FROM rules WHERE rule_id = $1 FOR UPDATE', [ruleId],
      );
      if (rows.length === 0) return false;
      check(withTenant(rows[0].definition, rows[0].tenant_id ?? undefined));
      await tx.query('DELETE FROM rules WHERE rule_id = $1', [ruleId]);
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
