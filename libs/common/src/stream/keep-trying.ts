import type { Logger } from '../logging/logger';
import { backoffMs } from './processing-error';

/**
 * Runs `start` until it succeeds, with back-off, without blocking the caller: a service whose Kafka or
 * Postgres is not reachable yet still serves /healthz (and reports not-ready on /readyz) instead of
 * crash-looping. Returns a function that stops further attempts.
 */
export function keepTrying(what: string, start: () => Promise<void>, logger: Logger, cleanup?: () => Promise<void>): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const attempt = async (n: number): Promise<void> => {
    if (stopped) return;
    try {
      await start();
      if (n > 0) logger.info(`${what}: started after ${n} retries`);
    } catch (error) {
      await cleanup?.().catch(() => undefined);
      const delay = backoffMs(n + 2);
      logger.warn(`${what}: cannot start yet; retrying`, { attempt: n + 1, delayMs: delay, error: (error as Error).message });
      timer = setTimeout(() => void attempt(n + 1), delay);
    }
  };
  void attempt(0);
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
