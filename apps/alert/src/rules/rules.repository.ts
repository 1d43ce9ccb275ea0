import type { Database, Logger, Queryable } from '@streamguard/common';
import { RuleDefinition, validateRule } from '@streamguard/stream-core';

export const RULES_CHANNEL = 'streamguard_rules';

/** `rules` table. Every write notifies `streamguard_rules` so all alert instances reload at once. */
export class RulesRepository {
  constructor(private readonly db: Database, private readonly logger: Logger) {}

  /** All stored rules that validate; an invalid stored row is logged and skipped, never fatal. */
  async loadAll(db: Queryable = this.db): Promise<RuleDefinition[]> {
    const { rows } = await db.query<{ rule_id: string; definition: unknown }>('SELECT rule_id, definition FROM rules ORDER BY rule_id');
    const rules: RuleDefinition[] = [];
    for (const row of rows) {
      const result = validateRule(row.definition);
      if (result.ok) rules.push(result.rule);
      else this.logger.error('stored rule is invalid; skipped', { ruleId: row.rule_id, errors: result.errors });
    }
    return rules;
  }

  async find(ruleId: string): Promise<RuleDefinition | undefined> {
    const { rows } = await this.db.query<{ definition: unknown }>('SELECT definition FROM rules WHERE rule_id = $1', [ruleId]);
    if (rows.length === 0) return undefined;
    const result = validateRule(rows[0].definition);
    return result.ok ? result.rule : undefined;
  }

  /** Inserts a new rule; false when the id exists. */
  async insert(rule: RuleDefinition): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const { rowCount } = await tx.query(
        'INSERT INTO rules (rule_id, version, type, status, definition) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING',
        [rule.id, rule.version, rule.type, rule.status, JSON.stringify(rule)],
      );
      if (rowCount > 0) await tx.query(`SELECT pg_notify('${RULES_CHANNEL}', $1)`, [rule.id]);
      return rowCount > 0;
    });
  }

  /** Replaces a rule, bumping its version; undefined when it does not exist. */
  async update(ruleId: string, change: (current: RuleDefinition) => RuleDefinition): Promise<RuleDefinition | undefined> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ definition: RuleDefinition }>('SELECT definition FROM rules WHERE rule_id = $1 FOR UPDATE', [ruleId]);
      if (rows.length === 0) return undefined;
      const next = change(rows[0].definition);
      await tx.query(
        'UPDATE rules SET version = $2, type = $3, status = $4, definition = $5, updated_at = now() WHERE rule_id = $1',
        [ruleId, next.version, next.type, next.status, JSON.stringify(next)],
      );
      await tx.query(`SELECT pg_notify('${RULES_CHANNEL}', $1)`, [ruleId]);
      return next;
    });
  }

  async delete(ruleId: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const { rowCount } = await tx.query('DELETE FROM rules WHERE rule_id = $1', [ruleId]);
      if (rowCount > 0) await tx.query(`SELECT pg_notify('${RULES_CHANNEL}', $1)`, [ruleId]);
      return rowCount > 0;
    });
  }
}
