/**
 * A thin Postgres handle: a pool, `query`, and `transaction(fn)`. Repositories are built on it; services
 * never see `pg` types.
 */
import { Pool, PoolClient } from 'pg';
import type { Logger } from '../logging/logger';

export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[]; rowCount: number }>;
}

export class Database implements Queryable {
  private readonly pool: Pool;
  private healthy = false;

  constructor(connectionString: string, poolSize: number, private readonly logger: Logger, applicationName = 'streamguard') {
    this.pool = new Pool({
      connectionString, max: poolSize, application_name: applicationName,
      connectionTimeoutMillis: 5000, idleTimeoutMillis: 30000,
      // Fail fast instead of queueing forever when Postgres hangs; the caller retries with back-off.
      query_timeout: 30000,
    });
    this.pool.on('error', (error) => {
      this.healthy = false;
      this.logger.warn('postgres idle client error', { error: error.message });
    });
  }

  async query<R = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<{ rows: R[]; rowCount: number }> {
    try {
      const result = await this.pool.query(sql, params);
      this.healthy = true;
      return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
    } catch (error) {
      if (isConnectionError(error)) this.healthy = false;
      throw error;
    }
  }

  /** Runs `fn` in one transaction: commit when it resolves, roll back when it throws. */
  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      this.healthy = false;
      throw error;
    }
    // A checked-out client that loses its connection between two queries (Postgres restarting) emits
    // 'error'; without a listener that would crash the process. The next query fails and rolls back instead.
    const onError = (error: Error) => {
      this.healthy = false;
      this.logger.warn('postgres connection lost during a transaction', { error: error.message });
    };
    client.on('error', onError);
    const tx: Queryable = {
      query: async <R>(sql: string, params: unknown[] = []) => {
        const r = await client.query(sql, params);
        return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
      },
    };
    try {
      await client.query('BEGIN');
      const result = await fn(tx);
      await client.query('COMMIT');
      this.healthy = true;
      client.removeListener('error', onError);
      client.release();
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.removeListener('error', onError);
      // A broken connection must not go back to the pool.
      client.release(isConnectionError(error) ? (error as Error) : undefined);
      if (isConnectionError(error)) this.healthy = false;
      throw error;
    }
  }

  /** A dedicated connection (e.g. for LISTEN); the caller releases it. */
  connect(): Promise<PoolClient> {
    return this.pool.connect();
  }

  async ping(): Promise<boolean> {
    try {
      await this.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  isHealthy(): boolean {
    return this.healthy;
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/** Errors that mean "Postgres is unreachable or restarting": retriable, pause and try again. */
export function isConnectionError(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  if (!e) return false;
  if (e.code && /^(08|57P0|53)/.test(e.code)) return true; // connection exception, admin shutdown, insufficient resources
  if (e.code && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'].includes(e.code)) return true;
  return /Connection terminated|timeout|not queryable|Client has encountered a connection error/i.test(e.message ?? '');
}
