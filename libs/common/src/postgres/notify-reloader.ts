/**
 * Keeps an in-memory copy of a table current: reloads on every NOTIFY on `channel` (a dedicated LISTEN
 * connection, reconnected when it drops) and on a slow poll as a safety net for missed notifications.
 *
 * Reloads are coalesced: one runs at a time, and any number of notifications arriving meanwhile cause one
 * more reload after it (which sees all their changes), never one each — a burst of N changes costs two
 * table reads, not N.
 */
import type { Logger } from '../logging/logger';
import type { Database } from './database';

interface ListenerClient {
  query(sql: string): Promise<unknown>;
  on(event: 'notification' | 'error', listener: () => void): unknown;
  removeAllListeners(): void;
  release(destroy?: boolean): void;
}

export class NotifyReloader {
  private poller?: NodeJS.Timeout;
  private listener?: ListenerClient;
  private relistenTimer?: NodeJS.Timeout;
  private stopped = false;
  private running?: Promise<void>;
  private next?: Promise<void>;

  constructor(
    private readonly db: Database,
    private readonly channel: string,
    private readonly load: () => Promise<void>,
    private readonly logger: Logger,
    private readonly pollMs: number,
  ) {}

  /** Loads once (rejects if that fails), then keeps listening and polling until {@link stop}. */
  async start(): Promise<void> {
    await this.reload();
    this.poller = setInterval(() => this.reloadInBackground('poll'), this.pollMs);
    this.poller.unref();
    void this.listen();
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
    this.stopped = true;
    if (this.poller) clearInterval(this.poller);
    if (this.relistenTimer) clearTimeout(this.relistenTimer);
    this.releaseListener();
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

  private releaseListener(destroy = false): void {
    const client = this.listener;
    this.listener = undefined;
    client?.removeAllListeners();
    // A released connection may still emit 'error' while closing; unhandled, that would crash the process.
    client?.on('error', () => undefined);
    client?.release(destroy);
  }

  /** One pending re-listen at most, however many errors arrive. */
  private relistenLater(delayMs: number): void {
    if (this.stopped || this.relistenTimer) return;
    this.relistenTimer = setTimeout(() => {
      this.relistenTimer = undefined;
      void this.listen();
    }, delayMs);
    this.relistenTimer.unref();
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    let client: ListenerClient | undefined;
    try {
      client = (await this.db.connect()) as unknown as ListenerClient;
      if (this.stopped) {
        client.release();
        return;
      }
      this.listener = client;
      const own = client;
      client.on('notification', () => this.reloadInBackground('NOTIFY'));
      client.on('error', () => {
        if (this.listener === own) this.releaseListener(true);
        this.relistenLater(1000);
      });
      await client.query(`LISTEN ${this.channel}`);
      // Changes committed between the first load and LISTEN would otherwise wait for the poll.
      this.reloadInBackground('LISTEN');
    } catch (error) {
      this.logger.warn(`cannot LISTEN on ${this.channel} yet; polling meanwhile`, { error: (error as Error).message });
      if (client && this.listener === client) this.releaseListener(true);
      else client?.release(true);
      this.relistenLater(2000);
    }
  }
}
