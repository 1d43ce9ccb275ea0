/** The two profiles: `ci` (every fault once, about 5 minutes) and `full` (each fault repeatedly, longer outages). */
import {
  Fault, injectPoison, kafkaDownAtIngest, killService, networkFault, pauseBroker, pauseService, postgresReadOnly, rebalanceStorm,
  restartBroker, restartPostgres, scaleOutAndIn, zombie,
} from './fault-injectors';

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
      pauseService('enrich', 20_000), zombie('aggregate'), restartBroker(3_000, 'kill'), pauseBroker(10_000), postgresReadOnly(10_000),
      rebalanceStorm('alert', 3, 3_000), poison,
      networkFault('aggregate', 'postgres', 'partition', 10_000), networkFault('enrich', 'kafka', { latencyMs: 200 }, 10_000),
    ],
    hardDeadlineMs: 10 * 60_000, drainTimeoutMs: 90_000,
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
      // Frozen processes, zombies, a broker that dies hard or hangs, Postgres refusing writes, rebalance storms.
      pauseService('enrich', 60_000), pauseService('aggregate', 30_000), zombie('enrich'), zombie('aggregate'), zombie('alert'),
      restartBroker(10_000, 'kill'), pauseBroker(30_000), postgresReadOnly(30_000), rebalanceStorm('aggregate', 5, 3_000), poison,
      // The network between one service and the broker or Postgres: cut (past the session timeout), or slow.
      networkFault('aggregate', 'kafka', 'partition', 30_000), networkFault('enrich', 'postgres', 'partition', 20_000),
      networkFault('aggregate', 'postgres', { latencyMs: 100 }, 20_000), networkFault('enrich', 'kafka', { latencyMs: 300 }, 20_000),
      // Kafka gone for two minutes under ingest traffic: 503s, bounded memory, nothing acknowledged lost.
      kafkaDownAtIngest(120_000, 200),
    ],
    hardDeadlineMs: 30 * 60_000, drainTimeoutMs: 180_000,
  },
};
