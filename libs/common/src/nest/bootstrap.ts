/**
 * Starts one service: Fastify-backed Nest app, shutdown hooks with a hard deadline, listen, one start-up line.
 * `main.ts` of each app is just a call to this with its validated config.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { LoggerService } from '@nestjs/common';
import { JsonLogger, LogLevel } from '../logging/logger';

export interface BootstrapOptions {
  service: string;
  port: number;
  host: string;
  logLevel: LogLevel;
  shutdownGraceMs: number;
  /** Maximum request body in bytes (Fastify rejects larger ones with 413 before reading them whole). */
  bodyLimit?: number;
  /** Extra lines for the start-up message (endpoints worth knowing). */
  describe?: string[];
  /** false: the service registers its own content-type parsers in `configure` (Nest's JSON parser is skipped). */
  bodyParser?: boolean;
  /** Hook to register content-type parsers etc. before routes. */
  configure?: (app: NestFastifyApplication) => void | Promise<void>;
}

class NestLogBridge implements LoggerService {
  constructor(private readonly logger: JsonLogger) {}
  log(message: unknown, context?: string): void { this.logger.debug(String(message), { context }); }
  error(message: unknown, trace?: string, context?: string): void { this.logger.error(String(message), { context, trace }); }
  warn(message: unknown, context?: string): void { this.logger.warn(String(message), { context }); }
}

export async function bootstrapService(module: unknown, options: BootstrapOptions): Promise<NestFastifyApplication> {
  const logger = new JsonLogger(options.logLevel, { service: options.service });
  // On shutdown, idle keep-alive connections close at once; requests in flight finish (their events are acked).
  const adapter = new FastifyAdapter({ bodyLimit: options.bodyLimit ?? 1024 * 1024, logger: false, forceCloseConnections: 'idle' });
  const app = await NestFactory.create<NestFastifyApplication>(module as never, adapter, {
    logger: new NestLogBridge(logger), bufferLogs: false, abortOnError: false, bodyParser: options.bodyParser ?? true,
  });
  await options.configure?.(app);
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  // A hard deadline so a stuck dependency can never keep a terminating pod alive past its grace period.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.info('shutting down', { signal, graceMs: options.shutdownGraceMs });
      setTimeout(() => {
        logger.error('graceful shutdown exceeded SHUTDOWN_GRACE_MS; exiting', { graceMs: options.shutdownGraceMs });
        process.exit(1);
      }, options.shutdownGraceMs).unref();
    });
  }
  await app.listen({ port: options.port, host: options.host });
  logger.info(`${options.service} listening on http://${options.host === '0.0.0.0' ? '127.0.0.1' : options.host}:${options.port}`, {
    endpoints: ['/healthz', '/readyz', '/metrics', ...(options.describe ?? [])],
  });
  return app;
}

/** Turns a start-up failure (bad config, unreachable dependency) into one clear line and exit code 1. */
export function exitOnStartupError(service: string): (error: unknown) => never {
  return (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${service} failed to start: ${message}\n`);
    process.exit(1);
  };
}
