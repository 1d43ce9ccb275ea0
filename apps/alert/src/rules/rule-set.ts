/**
 * The current rules of this instance, shared by all partition processors. Reloaded on every NOTIFY from
 * the rules table (and by a slow poll as a safety net); processors pick up a new generation before their
 * next batch or tick, so a change applies within about a second without a restart.
 */
import { createHash } from 'node:crypto';
import { NotifyReloader, type Database, type Logger } from '@streamguard/common';
import { RuleDefinition, tenantScopedRule } from '@streamguard/stream-core';
import { RULES_CHANNEL, RulesRepository } from './rules.repository';

/** One loaded rule as `describe()` reports it. */
export interface LoadedRule {
  id: string;
  version: number;
  status: string;
  /** null: a global rule. */
  tenantId: string | null;
}

export class RuleSet {
  /** As stored (with their runtime `tenantId`). */
  private rules: RuleDefinition[] = [];
  /** As the engines run them: tenant-scoped (see tenantScopedRule). */
  private engineRules: RuleDefinition[] = [];
  private currentGeneration = 0;
  private loadedAt = 0;
  private signature = '';
  private readonly reloader: NotifyReloader;

  constructor(private readonly repository: RulesRepository, db: Database, private readonly logger: Logger, pollMs: number) {
    this.reloader = new NotifyReloader(db, RULES_CHANNEL, () => this.loadAndApply(), logger, pollMs);
  }

  get generation(): number {
    return this.currentGeneration;
  }

  /**
   * The rules for the engines. Tenant-scoped: an explicit `groupBy` starts with `tenantId`, so even a global rule
   * keeps separate state, cooldowns and alert ids per tenant; a tenant rule keeps its `tenantId` and only sees
   * that tenant's events.
   */
  current(): RuleDefinition[] {
    return this.engineRules;
  }

  /**
   * What this instance evaluates right now (for operators and tests: "has my change arrived?"), limited to the
   * rules `visible` accepts. `signature` depends on those rules only (see {@link loadedSignature}); `generation`
   * and `loadedAt` count and date every reload, whoever's rule changed.
   */
  describe(visible: (rule: LoadedRule) => boolean = () => true): { generation: number; loadedAt: number; signature: string; rules: LoadedRule[] } {
    const rules = this.rules.map((r) => ({ id: r.id, version: r.version, status: r.status, tenantId: r.tenantId ?? null })).filter(visible);
    return { generation: this.currentGeneration, loadedAt: this.loadedAt, signature: loadedSignature(rules), rules };
  }

  /** Loads the rules (rejects if that fails), then follows every change until {@link stop}. */
  start(): Promise<void> {
    return this.reloader.start();
  }

  /** Reloads one at a time (a NOTIFY and the poll must not apply out of order). */
  reload(): Promise<void> {
    return this.reloader.reload();
  }

  private async loadAndApply(): Promise<void> {
    const rules = await this.repository.loadAll();
    const signature = JSON.stringify(rules);
    if (signature === this.signature) return;
    this.signature = signature;
    this.rules = rules;
    this.engineRules = rules.map(tenantScopedRule);
    this.currentGeneration += 1;
    this.loadedAt = Date.now();
    this.logger.info('rules loaded', { generation: this.currentGeneration, rules: rules.map((r) => `${r.id}@v${r.version}${r.tenantId ? ` [${r.tenantId}]` : ''}${r.status === 'paused' ? ' (paused)' : ''}`) });
  }

  async stop(): Promise<void> {
    this.reloader.stop();
  }
}

/**
 * 16 hex characters of sha256 over the rules' (id, tenantId, version, status), in load order: equal on two
 * instances that evaluate the same versions of these rules, and changed by any change to one of them (every
 * change bumps the version) — never by a change to a rule outside the list.
 */
export function loadedSignature(rules: readonly LoadedRule[]): string {
  const parts = rules.map((r) => [r.id, r.tenantId, r.version, r.status]);
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}
