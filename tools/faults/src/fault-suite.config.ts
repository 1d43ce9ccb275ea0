/** The two profiles: `ci` (every fault once, about 3 minutes) and `full` (each fault repeatedly, longer outages). */
import { Fault, injectPoison, killService, restartBroker, restartPostgres, scaleOutAndIn } from './fault-injectors';

export type ProfileName = 'ci' | 'full';

export interface Profile {
  name: ProfileName;
  eventsPerSecond: number;
  batchSize: number;
  accounts: number;
  /** Traffic before the first fault and between two faults. */
  gapMs: number;
  faults: Fault[];
  /** The whole run, infrastructure start and teardown included. */
  hardDeadlineMs: number;
  /** Each waiting step of the final drain. */
  drainTimeoutMs: number;
}

const poison = injectPoison({ raw: 'events.raw', enriched: 'events.enriched' });

export const PROFILES: Record<ProfileName, Profile> = {
  ci: {
    name: 'ci', eventsPerSecond: 150, batchSize: 20, accounts: 12, gapMs: 5_000,
    faults: [
      killService('ingest'), poison, killService('enrich'), killService('aggregate'), killService('alert'),
      restartBroker(3_000), restartPostgres(3_000), scaleOutAndIn('aggregate', 6_000), poison,
    ],
    hardDeadlineMs: 6 * 60_000, drainTimeoutMs: 90_000,
  },
  full: {
    name: 'full', eventsPerSecond: 200, batchSize: 25, accounts: 16, gapMs: 10_000,
    faults: [
      killService('ingest'), poison, killService('enrich'), killService('aggregate'), killService('alert'),
      restartBroker(5_000), restartPostgres(5_000),
      scaleOutAndIn('aggregate', 10_000), scaleOutAndIn('enrich', 10_000), scaleOutAndIn('alert', 10_000, 'kill'), poison,
      // Longer outages: ingest answers 503 (unknown outcome) and consumers back off for many seconds.
      restartBroker(15_000), killService('enrich'), restartPostgres(15_000), killService('aggregate'),
      scaleOutAndIn('enrich', 10_000, 'kill'), killService('alert'), killService('ingest'), poison,
    ],
    hardDeadlineMs: 14 * 60_000, drainTimeoutMs: 120_000,
  },
};
