// Public surface of the framework-free stream core. No @nestjs/*, Kafka client, pg or prom-client in here:
// lint enforces it (see eslint.config.mjs).
export * from './time/clock';
export * from './time/source-progress';
export * from './windowing';
export * from './rules';
export * from './tenancy/tenant-scope';
