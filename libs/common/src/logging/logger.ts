/**
 * Structured JSON logs, one object per line on stdout. Tiny on purpose: no dependency, no async transport,
 * the same shape from every service (`ts`, `level`, `service`, `msg`, then fields).
 */
import { currentLogContext } from './log-context';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const RESERVED = new Set(['ts', 'level', 'msg']);

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export class JsonLogger implements Logger {
  constructor(
    private readonly minLevel: LogLevel = 'info',
    private readonly base: Record<string, unknown> = {},
    private readonly write: (line: string) => void = (line) => process.stdout.write(line + '\n'),
  ) {}

  debug(msg: string, fields?: Record<string, unknown>): void { this.log('debug', msg, fields); }
  info(msg: string, fields?: Record<string, unknown>): void { this.log('info', msg, fields); }
  warn(msg: string, fields?: Record<string, unknown>): void { this.log('warn', msg, fields); }
  error(msg: string, fields?: Record<string, unknown>): void { this.log('error', msg, fields); }

  child(fields: Record<string, unknown>): Logger {
    return new JsonLogger(this.minLevel, { ...this.base, ...fields }, this.write);
  }

  private log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (LEVELS[level] < LEVELS[this.minLevel]) return;
    const entry: Record<string, unknown> = { ts: new Date().toISOString(), level };
    // Reserved keys are skipped: a field can never disguise a line's level, message or time.
    for (const [k, v] of Object.entries(this.base)) if (!RESERVED.has(k)) entry[k] = v;
    const context = currentLogContext();
    if (context) for (const [k, v] of Object.entries(context)) if (!RESERVED.has(k)) entry[k] = v;
    entry.msg = msg;
    if (fields) {
      for (const [k, v] of Object.entries(fields)) if (!RESERVED.has(k)) entry[k] = v instanceof Error ? serializeError(v) : v;
    }
    this.write(JSON.stringify(entry));
  }
}

export function serializeError(error: Error): Record<string, unknown> {
  return { class: error.name, message: error.message, code: (error as { code?: unknown }).code, stack: error.stack?.split('\n').slice(0, 6).join('\n') };
}
