/**
 * Keeps an in-memory copy of a table current: reloads on every NOTIFY on `channel` (a dedicated LISTEN
 * connection, reconnected when it drops) and on a slow poll as a safety net for missed notifications.
 * Reloads run one at a time, so a NOTIFY and the poll never apply out of order.
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
  private stopped = false;
  private reloading: Promise<void> = Promise.resolve();

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
    this.poller = setInterval(() => void this.reload().catch((error) => this.logger.warn(`reload after poll failed (${this.channel})`, { error: (error as Error).message })), this.pollMs);
    this.poller.unref();
    void this.listen();
  }

  reload(): Promise<void> {
    const next = this.reloading.then(() => this.load(), () => this.load());
    this.reloading = next.catch(() => undefined);
    return next;
  }

  stop(): void {
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

  private async listen(): Promise<void> {
    if (this.stopped) return;
    try {
      const client = (await this.db.connect()) as unknown as ListenerClient;
      if (this.stopped) {
        client.release();
        return;
      }
      this.listener = client;
      client.on('notification', () => void this.reload().catch((error) => this.logger.warn(`reload after NOTIFY failed (${this.channel})`, { error: (error as Error).message })));
      client.on('error', () => {
        if (this.listener === client) this.releaseListener(true);
        setTimeout(() => void this.listen(), 1000).unref();
      });
      await client.query(`LISTEN ${this.channel}`);
      // Changes committed between the first load and LISTEN would otherwise wait for the poll.
      await this.reload().catch(() => undefined);
    } catch (error) {
      this.logger.warn(`cannot LISTEN on ${this.channel} yet; polling meanwhile`, { error: (error as Error).message });
      setTimeout(() => void this.listen(), 2000).unref();
    }
  }
}
