/**
 * LISTEN on one Postgres channel over a dedicated connection, kept alive: reconnects after an error, and a
 * periodic check (`checkMs`) runs `SELECT 1` while connected, so a silently dead socket is noticed too.
 *
 * Notifications sent while nobody listens are lost, so the owner is told whenever it may have missed some:
 * `onConnected` once the LISTEN is in effect (changes before it were not notified), `onLost` when the
 * connection breaks, and `onDown` on every check while not connected (the slow fallback).
 */
import type { Logger } from '../logging/logger';
import type { Database } from './database';

/** What the listener needs of a pooled connection (structural: callers never import `pg`). */
interface ListenConnection {
  query(sql: string): Promise<unknown>;
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  removeAllListeners(): unknown;
  release(destroy?: boolean): void;
}

export interface ChannelHandlers {
  onNotification(payload: string | undefined): void;
  onConnected?(): void;
  onLost?(): void;
  onDown?(): void;
}

export interface ChannelListenerOptions {
  checkMs: number;
  reconnectDelayMs?: number;
  /** Says what falls back while not listening, in the one warning logged per outage. */
  whileDown: string;
}

/** A released connection may still emit 'error' (e.g. while closing); unhandled, that would crash the process. */
function ignoreLateErrors(): void {}

export class PgChannelListener {
  private connection?: ListenConnection;
  private checker?: NodeJS.Timeout;
  private reconnectTimer?: NodeJS.Timeout;
  private stopped = false;
  private connecting = false;
  private warnedDown = false;

  constructor(
    private readonly db: Pick<Database, 'connect'>,
    private readonly channel: string,
    private readonly handlers: ChannelHandlers,
    private readonly logger: Logger,
    private readonly options: ChannelListenerOptions,
  ) {}

  start(): void {
    this.checker = setInterval(() => void this.check(), this.options.checkMs);
    this.checker.unref();
    void this.connect();
  }

  isListening(): boolean {
    return this.connection !== undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.checker) clearInterval(this.checker);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const connection = this.connection;
    this.connection = undefined;
    if (connection) {
      connection.removeAllListeners();
      connection.on('error', ignoreLateErrors);
      await connection.query(`UNLISTEN ${this.channel}`).catch(() => undefined);
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
        if (message.channel === this.channel) this.handlers.onNotification(message.payload);
      });
      connection.on('error', (error) => this.lost(connection!, error));
      await connection.query(`LISTEN ${this.channel}`);
      if (this.stopped) {
        connection.removeAllListeners();
        connection.on('error', ignoreLateErrors);
        connection.release();
        return;
      }
      this.connection = connection;
      this.handlers.onConnected?.();
      if (this.warnedDown) this.logger.info(`listening on ${this.channel} again`);
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
    connection.removeAllListeners();
    connection.on('error', ignoreLateErrors);
    connection.release(true); // a broken connection must not go back to the pool
    this.handlers.onLost?.();
    this.scheduleReconnect(error);
  }

  private scheduleReconnect(error: Error): void {
    if (this.stopped) return;
    if (!this.warnedDown) {
      this.logger.warn(`cannot LISTEN on ${this.channel}; ${this.options.whileDown} until it works again`, { error: error.message });
      this.warnedDown = true;
    }
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.connect(), this.options.reconnectDelayMs ?? 1000);
    this.reconnectTimer.unref();
  }

  private async check(): Promise<void> {
    if (this.stopped) return;
    const connection = this.connection;
    if (!connection) {
      this.handlers.onDown?.();
      return;
    }
    try {
      await connection.query('SELECT 1');
    } catch (error) {
      this.lost(connection, error as Error);
    }
  }
}
