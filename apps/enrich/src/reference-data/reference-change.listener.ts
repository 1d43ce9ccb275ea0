/**
 * Keeps this instance's reference cache fresh: LISTEN on `streamguard_reference` over a dedicated
 * connection and hand every change to `onChange`, within milliseconds of the writer's commit.
 *
 * Notifications sent while nobody listens are lost, so whenever the listener is not (yet, or any more)
 * connected, it reports "everything may have changed": once when the connection is (re-)established, and
 * every `pollMs` while it is down (the slow fallback; changes then show within `pollMs`). While connected,
 * the same timer checks the connection with `SELECT 1`, so a silently dead socket is noticed too.
 */
import type { Database, Gauge, Logger, Metrics } from '@streamguard/common';
import { parseReferenceChange, REFERENCE_CHANNEL, ReferenceChange } from './reference-change';

/** What the listener needs of a pooled connection (structural, so the app never imports `pg`). */
interface ListenConnection {
  query(sql: string): Promise<unknown>;
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  removeAllListeners(): unknown;
  release(destroy?: boolean): void;
}

/** A released connection may still emit 'error' (e.g. while closing); unhandled, that would crash the process. */
function ignoreLateErrors(): void {}

/** `'all'`: changes may have been missed; forget everything. */
export type ReferenceChangeHandler = (change: ReferenceChange | 'all') => void;

export class ReferenceChangeListener {
  private connection?: ListenConnection;
  private poller?: NodeJS.Timeout;
  private reconnectTimer?: NodeJS.Timeout;
  private stopped = false;
  private connecting = false;
  private warnedDown = false;
  private readonly connected: Gauge;

  constructor(
    private readonly db: Pick<Database, 'connect'>,
    private readonly onChange: ReferenceChangeHandler,
    private readonly logger: Logger,
    metrics: Metrics,
    private readonly pollMs: number,
    private readonly reconnectDelayMs = 1000,
  ) {
    this.connected = metrics.gauge('enrich_reference_listener_connected', '1 while this instance LISTENs for reference data changes.');
  }

  start(): void {
    this.poller = setInterval(() => void this.poll(), this.pollMs);
    this.poller.unref();
    void this.connect();
  }

  isListening(): boolean {
    return this.connection !== undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poller) clearInterval(this.poller);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const connection = this.connection;
    this.connection = undefined;
    if (connection) {
      connection.removeAllListeners();
      connection.on('error', ignoreLateErrors);
      await connection.query(`UNLISTEN ${REFERENCE_CHANNEL}`).catch(() => undefined);
      connection.release();
    }
  }

  private async connect(): Promise<void> {
    if (this.stopped || this.connecting || this.connection) return;
    this.connecting = true;
    let connection: ListenConnection | undefined;
    try {
      connection = (await this.db.connect()) as unknown as ListenConnection;
      connection.on('notification', (message) => {
        if (message.channel !== REFERENCE_CHANNEL) return;
        const change = parseReferenceChange(message.payload);
        if (!change) this.logger.warn('unexpected reference change notification; forgetting all cached reference data', { payload: message.payload });
        this.onChange(change ?? 'all');
      });
      connection.on('error', (error) => this.lost(connection!, error));
      await connection.query(`LISTEN ${REFERENCE_CHANNEL}`);
      if (this.stopped) {
        connection.removeAllListeners();
        connection.on('error', ignoreLateErrors);
        connection.release();
        return;
      }
      this.connection = connection;
      this.connected.set({}, 1);
      // Anything that changed before LISTEN took effect was not notified to us.
      this.onChange('all');
      if (this.warnedDown) this.logger.info('listening for reference data changes again', { channel: REFERENCE_CHANNEL });
      this.warnedDown = false;
    } catch (error) {
      if (connection) {
        connection.removeAllListeners();
        connection.on('error', ignoreLateErrors);
        connection.release(true);
      }
      this.scheduleReconnect(error as Error);
    } finally {
      this.connecting = false;
    }
  }

  private lost(connection: ListenConnection, error: Error): void {
    if (this.connection !== connection) return;
    this.connection = undefined;
    this.connected.set({}, 0);
    connection.removeAllListeners();
    connection.on('error', ignoreLateErrors);
    connection.release(true); // a broken connection must not go back to the pool
    this.onChange('all');
    this.scheduleReconnect(error);
  }

  private scheduleReconnect(error: Error): void {
    if (this.stopped) return;
    if (!this.warnedDown) {
      this.logger.warn(`cannot LISTEN for reference data changes; caches are dropped every ${this.pollMs} ms until it works again`, { error: error.message });
      this.warnedDown = true;
    }
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.connect(), this.reconnectDelayMs);
    this.reconnectTimer.unref();
  }

  private async poll(): Promise<void> {
    if (this.stopped) return;
    const connection = this.connection;
    if (!connection) {
      this.onChange('all');
      return;
    }
    try {
      await connection.query('SELECT 1');
    } catch (error) {
      this.lost(connection, error as Error);
    }
  }
}
