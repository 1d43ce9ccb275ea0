/**
 * Keeps an in-memory copy of a table current: reloads on every NOTIFY on `channel` (a PgChannelListener:
 * dedicated connection, reconnected and health-checked) and on a slow poll as a safety net.
 *
 * Reloads are coalesced: one runs at a time, and any number of notifications arriving meanwhile cause one
 * more reload after it (which sees all their changes), never one each — a burst of N changes costs two
 * table reads, not N.
 */
import type { Logger } from '../logging/logger';
import type { Database } from './database';
import { PgChannelListener } from './pg-channel-listener';

export class NotifyReloader {
  private poller?: NodeJS.Timeout;
  private readonly listener: PgChannelListener;
  private running?: Promise<void>;
  private next?: Promise<void>;

  constructor(
    db: Database,
    private readonly channel: string,
    private readonly load: () => Promise<void>,
    private readonly logger: Logger,
    private readonly pollMs: number,
  ) {
    // Reload on every notification and whenever some may have been missed (connected again, connection lost).
    this.listener = new PgChannelListener(db, channel, {
      onNotification: () => this.reloadInBackground('NOTIFY'),
      onConnected: () => this.reloadInBackground('LISTEN'),
      onLost: () => this.reloadInBackground('a lost LISTEN connection'),
    }, logger, { checkMs: Math.min(pollMs, 5_000), reconnectDelayMs: 1000, whileDown: `changes arrive by the ${pollMs} ms poll` });
  }

  /** Loads once (rejects if that fails), then keeps listening and polling until {@link stop}. */
  async start(): Promise<void> {
    await this.reload();
    this.poller = setInterval(() => this.reloadInBackground('poll'), this.pollMs);
    this.poller.unref();
    this.listener.start();
  }

  /**
   * Resolves after a load that started after this call (so it sees every change committed before it).
   * While a load runs, all callers share the single load queued behind it.
   */
  reload(): Promise<void> {
    // A queued load has not started yet, so it will see this caller's changes too. (Checked first: between a
    // load finishing and the queued one starting, `running` is already clear.)
    if (this.next) return this.next;
    if (!this.running) return this.startLoad();
    this.next = this.running.then(() => undefined, () => undefined).then(() => {
      this.next = undefined;
      return this.startLoad();
    });
    return this.next;
  }

  stop(): void {
    if (this.poller) clearInterval(this.poller);
    void this.listener.stop();
  }

  private startLoad(): Promise<void> {
    const load = this.load().finally(() => {
      if (this.running === load) this.running = undefined;
    });
    this.running = load;
    return load;
  }

  private reloadInBackground(cause: string): void {
    this.reload().catch((error) => this.logger.warn(`reload after ${cause} failed (${this.channel})`, { error: (error as Error).message }));
  }
}
