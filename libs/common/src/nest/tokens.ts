/** DI tokens for the ports every service shares. One module declares only its own ports. */
export const LOGGER = Symbol('Logger');
export const METRICS = Symbol('Metrics');
export const CLOCK = Symbol('Clock');
export const READINESS = Symbol('ReadinessRegistry');
export const KAFKA = Symbol('KafkaPort');
export const DATABASE = Symbol('Database');
export const SERVICE_CONFIG = Symbol('ServiceConfig');
