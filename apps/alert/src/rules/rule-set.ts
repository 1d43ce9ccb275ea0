/**
 * The current rules of this instance, shared by all partition processors. Reloaded on every NOTIFY from
 * the rules table (and by a slow poll as a safety net); processors pick up a new generation before their
 * next batch or tick, so a change applies within about a second without a restart.
 */
import type { Database, Logger } from '@streamguard/common';
import type { RuleDefinition } from '@streamguard/stream-core';
import { RULES_CHANNEL, RulesRepository } from './rules.repository';

export class RuleSet {
  private rules: RuleDefinition[] = [];
  private currentGeneration = 0;
  private loadedAt = 0;
  private signature = '';
  private poller?: NodeJS.Timeout;
  private listener?: { release(destroy?: boolean): void; removeAllListeners(): void; on(event: 'error', listener: () => void): unknown };
  private stopped = false;

  constructor(private readonly repository: RulesRepository, private readonly db: Database, private readonly logger: Logger, private readonly pollMs: number) {}

  get generation(): number {
    return this.currentGeneration;
  }

  current(): RuleDefinition[] {
    return this.rules;
  }

  /** What this instance evaluates right now (for operators and tests: "has my change arrived?"). */
  describe(): { generation: number; loadedAt: number; rules: Array<{ id: string; version: number; status: string }> } {
    return { generation: this.currentGeneration, loadedAt: this.loadedAt, rules: this.rules.map((r) => ({ id: r.id, version: r.version, status: r.status })) };
  }

  async start(): Promise<void> {
    await this.reload();
    this.poller = setInterval(() => void this.reload().catch(() => undefined), this.pollMs);
    this.poller.unref();
    void this.listen();
  }

  private reloading: Promise<void> = Promise.resolve();

  /** Reloads one at a time (a NOTIFY and the poll must not apply out of order). */
  reload(): Promise<void> {
    const next = this.reloading.then(() => this.loadAndApply(), () => this.loadAndApply());
    this.reloading = next.catch(() => undefined);
    return next;
  }

  private async loadAndApply(): Promise<void> {
    const rules = await this.repository.loadAll();
    const signature = JSON.stringify(rules);
    if (signature === this.signature) return;
    this.signature = signature;
    this.rules = rules;
    this.currentGeneration += 1;
    this.loadedAt = Date.now();
    this.logger.info('rules loaded', { generation: this.currentGeneration, rules: rules.map((r) => `${r.id}@v${r.version}${r.status === 'paused' ? ' (paused)' : ''}`) });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poller) clearInterval(this.poller);
    this.releaseListener();
  }

  private releaseListener(destroy = false): void {
    const client = this.listener;
    this.listener = undefined;
    client?.removeAllListeners();
    // A released connection may still emit 'error' while closing; unhandled, that would crash the process.
    client?.on('error', () => undefined);
    client?.release(destroy);
  }

  /** LISTEN on a dedicated connection; reconnects with a delay if it drops (the poll covers the gap). */
  private async listen(): Promise<void> {
    if (this.stopped) return;
    try {
      const client = await this.db.connect();
      this.listener = client;
      client.on('notification', () => void this.reload().catch((error) => this.logger.warn('rule reload failed', { error: (error as Error).message })));
      client.on('error', () => {
        if (this.listener === client) this.releaseListener(true);
        setTimeout(() => void this.listen(), 1000).unref();
      });
      await client.query(`LISTEN ${RULES_CHANNEL}`);
    } catch (error) {
      this.logger.warn('cannot LISTEN for rule changes yet; polling meanwhile', { error: (error as Error).message });
      setTimeout(() => void this.listen(), 2000).unref();
    }
  }
}
