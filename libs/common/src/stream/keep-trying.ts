import type { Logger } from '../logging/logger';
import { backoffMs } from './processing-error';

/** An error that retrying cannot cure (`fatal: true`): the start is refused until an operator acts. */
export function isFatal(error: unknown): boolean {
  return (error as { fatal?: unknown } | null)?.fatal === true;
}

/** The default for a refused start: exit (after the log line is out), so the orchestrator shows a failing service. */
const exitProcess = (): void => {
  setTimeout(() => process.exit(1), 100).unref();
};

/**
 * Runs `start` until it succeeds, with back-off, without blocking the caller: a service whose Kafka or
 * Postgres is not reachable yet still serves /healthz (and reports not-ready on /readyz) instead of
 * crash-looping. A fatal error (isFatal) ends the attempts: it is logged as an error and `onFatal` runs
 * (by default the process exits with code 1). Returns a function that stops further attempts.
 */
export function keepTrying(what: string, start: () => Promise<void>, logger: Logger, cleanup?: () => Promise<void>, onFatal: (error: Error) => void = exitProcess): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const attempt = async (n: number): Promise<void> => {
    if (stopped) return;
    try {
      await start();
      if (n > 0) logger.info(`${what}: started after ${n} retries`);
    } catch (error) {
      await cleanup?.().catch(() => undefined);
      if (isFatal(error)) {
        stopped = true;
        logger.error(`${what}: cannot start, and retrying cannot help; giving up`, { error: (error as Error).message });
        onFatal(error as Error);
        return;
      }
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
