import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kafkaSecurityFromEnv } from './kafka-security';

const none = { kafkaSaslMechanism: 'none' as const, kafkaTls: false };

describe('kafkaSecurityFromEnv', () => {
  it('is empty by default (plaintext, no SASL)', () => {
    expect(kafkaSecurityFromEnv(none)).toEqual({});
  });

  it('builds SCRAM credentials', () => {
    expect(kafkaSecurityFromEnv({ ...none, kafkaSaslMechanism: 'scram-sha-512', kafkaSaslUsername: 'u', kafkaSaslPassword: 'p' }))
      .toEqual({ sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' } });
  });

  it('refuses a mechanism without credentials, naming the variables', () => {
    expect(() => kafkaSecurityFromEnv({ ...none, kafkaSaslMechanism: 'scram-sha-256', kafkaSaslUsername: 'u' })).toThrow(/KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/);
  });

  it('refuses PLAIN without TLS (the password would travel in clear text)', () => {
    expect(() => kafkaSecurityFromEnv({ ...none, kafkaSaslMechanism: 'plain', kafkaSaslUsername: 'u', kafkaSaslPassword: 'p' })).toThrow(/KAFKA_TLS=true/);
    expect(kafkaSecurityFromEnv({ ...none, kafkaTls: true, kafkaSaslMechanism: 'plain', kafkaSaslUsername: 'u', kafkaSaslPassword: 'p' }))
      .toMatchObject({ sasl: { mechanism: 'plain' }, tls: {} });
  });

  it('reads the CA and client certificate files for TLS', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tls-'));
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, f), `-----${f}-----`);
    expect(kafkaSecurityFromEnv({ ...none, kafkaTls: true, kafkaTlsCaFile: join(dir, 'ca.pem'), kafkaTlsCertFile: join(dir, 'cert.pem'), kafkaTlsKeyFile: join(dir, 'key.pem') }))
      .toEqual({ tls: { ca: '-----ca.pem-----', cert: '-----cert.pem-----', key: '-----key.pem-----' } });
  });

  it('names an unreadable file, a certificate without its key, and TLS files without TLS', () => {
    expect(() => kafkaSecurityFromEnv({ ...none, kafkaTls: true, kafkaTlsCaFile: '/nonexistent/ca.pem' })).toThrow(/KAFKA_TLS_CA_FILE=\/nonexistent\/ca.pem cannot be read/);
    expect(() => kafkaSecurityFromEnv({ ...none, kafkaTls: true, kafkaTlsCertFile: '/x' })).toThrow(/go together/);
    expect(() => kafkaSecurityFromEnv({ ...none, kafkaTlsCaFile: '/x' })).toThrow(/KAFKA_TLS is not true/);
  });
});
