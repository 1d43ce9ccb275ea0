/**
 * Kafka security settings (SASL, TLS) in our own terms, read from the KAFKA_SASL_* / KAFKA_TLS* variables.
 * The client adapter translates them into its own configuration.
 */
import { readFileSync } from 'node:fs';

export interface KafkaSecurity {
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  /** TLS on; with a CA (PEM) other than the system's, and optionally a client certificate (mutual TLS). */
  tls?: { ca?: string; cert?: string; key?: string };
}

/**
 * Kafka security from the KAFKA_SASL_* / KAFKA_TLS* variables. Throws (a start-up error naming the variable)
 * when they are inconsistent: a mechanism without credentials, PLAIN without TLS, unreadable PEM files.
 */
export function kafkaSecurityFromEnv(env: {
  kafkaSaslMechanism: 'none' | 'plain' | 'scram-sha-256' | 'scram-sha-512'; kafkaSaslUsername?: string; kafkaSaslPassword?: string;
  kafkaTls: boolean; kafkaTlsCaFile?: string; kafkaTlsCertFile?: string; kafkaTlsKeyFile?: string;
}): KafkaSecurity {
  const security: KafkaSecurity = {};
  if (env.kafkaSaslMechanism !== 'none') {
    if (!env.kafkaSaslUsername || !env.kafkaSaslPassword) {
      throw new Error(`KAFKA_SASL_MECHANISM=${env.kafkaSaslMechanism} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD`);
    }
    if (env.kafkaSaslMechanism === 'plain' && !env.kafkaTls) {
      throw new Error('KAFKA_SASL_MECHANISM=plain sends the password in clear text: set KAFKA_TLS=true (or use scram-sha-256/512)');
    }
    security.sasl = { mechanism: env.kafkaSaslMechanism, username: env.kafkaSaslUsername, password: env.kafkaSaslPassword };
  }
  if (env.kafkaTls) {
    const read = (variable: string, file?: string) => {
      if (!file) return undefined;
      try {
        return readFileSync(file, 'utf8');
      } catch (error) {
        throw new Error(`${variable}=${file} cannot be read: ${(error as Error).message}`);
      }
    };
    if (Boolean(env.kafkaTlsCertFile) !== Boolean(env.kafkaTlsKeyFile)) throw new Error('KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE go together (mutual TLS)');
    security.tls = { ca: read('KAFKA_TLS_CA_FILE', env.kafkaTlsCaFile), cert: read('KAFKA_TLS_CERT_FILE', env.kafkaTlsCertFile), key: read('KAFKA_TLS_KEY_FILE', env.kafkaTlsKeyFile) };
  } else if (env.kafkaTlsCaFile || env.kafkaTlsCertFile) {
    throw new Error('KAFKA_TLS_CA_FILE / KAFKA_TLS_CERT_FILE are set but KAFKA_TLS is not true');
  }
  return security;
}
