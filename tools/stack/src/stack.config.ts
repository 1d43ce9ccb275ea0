import { boolVar, intVar } from '@streamguard/common';

/** Variables only `npm start` reads (the services ignore them). */
export const stackEnv = {
  partitions: intVar('STACK_PARTITIONS', '`npm start` only: partitions per topic when it creates the topics.', 6, 1, 1000),
  kafkaPort: intVar('STACK_KAFKA_PORT', '`npm start` only: port of the local broker (the controller uses the next one).', 9092, 1, 65534),
  postgresPort: intVar('STACK_POSTGRES_PORT', '`npm start` only: port of the embedded Postgres.', 5433, 1, 65535),
  prettyLogs: boolVar('STACK_PRETTY_LOGS', '`npm start` only: render the services\' JSON logs as readable lines.', true),
};
