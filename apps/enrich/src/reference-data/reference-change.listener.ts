/**
 * Keeps this instance's reference cache fresh: LISTEN on `streamguard_reference` over a dedicated
 * connection and hand every change to `onChange`, within milliseconds of the writer's commit.
 *
 * Notifications sent while nobody listens are lost, so whenever the listener is not (yet, or any more)
 * connected, it reports "everything may have changed": once when the connection is (re-)established, and
 * every `pollMs` while it is down (the slow fallback; changes then show within `pollMs`). While connected,
 * the same timer checks the connection with `SELECT 1`, so a silently dead socket is noticed too.
 */
import { PgChannelListener, type Database, type Gauge, type Logger, type Metrics } from '@streamguard/common';
import { parseReferenceChange, REFERENCE_CHANNEL, ReferenceChange } from './reference-change';

/** `'all'`: changes may have been missed; forget everything. */
export type ReferenceChangeHandler = (change: ReferenceChange | 'all') => void;

export class ReferenceChangeListener {
  private readonly listener: PgChannelListener;
  private readonly connected: Gauge;

  constructor(
    db: Pick<Database, 'connect'>,
    onChange: ReferenceChangeHandler,
    logger: Logger,
    metrics: Metrics,
    pollMs: number,
    reconnectDelayMs = 1000,
  ) {
    this.connected = metrics.gauge('enrich_reference_listener_connected', '1 while this instance LISTENs for reference data changes.');
    this.listener = new PgChannelListener(db, REFERENCE_CHANNEL, {
      onNotification: (payload) => {
        const change = parseReferenceChange(payload);
        if (!change) logger.warn('unexpected reference change notification; forgetting all cached reference data', { payload });
        onChange(change ?? 'all');
      },
      onConnected: () => {
        this.connected.set({}, 1);
        onChange('all'); // anything that changed before LISTEN took effect was not notified to us
      },
      onLost: () => {
        this.connected.set({}, 0);
        onChange('all');
      },
      onDown: () => onChange('all'),
    }, logger, { checkMs: pollMs, reconnectDelayMs, whileDown: `caches are dropped every ${pollMs} ms` });
  }

  start(): void {
    this.listener.start();
  }

  isListening(): boolean {
    return this.listener.isListening();
  }

  stop(): Promise<void> {
    return this.listener.stop();
  }
}
