import type { KafkaAdminPort, KafkaPort } from '../kafka/kafka.port';
import { LazyAdmin } from './lazy-admin';

function fakeKafka(connects: Array<'ok' | 'fail'>) {
  const made: Array<{ disconnected: boolean }> = [];
  const kafka = {
    admin: async () => {
      const outcome = connects.shift();
      if (outcome === 'fail') throw new Error('no broker');
      const admin = { disconnected: false, disconnect: async () => { admin.disconnected = true; } };
      made.push(admin);
      return admin as unknown as KafkaAdminPort;
    },
  } as unknown as KafkaPort;
  return { kafka, made };
}

describe('LazyAdmin', () => {
  it('makes one admin client and keeps it across uses', async () => {
    const { kafka, made } = fakeKafka(['ok', 'ok']);
    const admin = new LazyAdmin(kafka);
    expect(await admin.get()).toBe(await admin.get());
    expect(made).toHaveLength(1);
  });

  it('connects again on the next use after a failed connect', async () => {
    const { kafka, made } = fakeKafka(['fail', 'ok']);
    const admin = new LazyAdmin(kafka);
    await expect(admin.get()).rejects.toThrow('no broker');
    await new Promise((resolve) => setImmediate(resolve));
    await expect(admin.get()).resolves.toBeDefined();
    expect(made).toHaveLength(1);
  });

  it('disconnects the client on close, and close without a client does nothing', async () => {
    const { kafka, made } = fakeKafka(['ok']);
    const admin = new LazyAdmin(kafka);
    await admin.close();
    await admin.get();
    await admin.close();
    expect(made[0].disconnected).toBe(true);
  });
});
