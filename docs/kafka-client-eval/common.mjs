// Shared helpers for the scratch comparison. Broker: ./broker.sh start (127.0.0.1:29092).
import { spawnSync } from 'node:child_process';
import { Admin } from '@platformatic/kafka';
export const BROKER = '127.0.0.1:29092';
export const RUN = process.env.RUN_ID ?? Date.now().toString(36);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Rejects after `ms` so that no step can hang the script. */
export function within(ms, promise, what = 'step') {
  let t;
  return Promise.race([promise, new Promise((_, rej) => { t = setTimeout(() => rej(new Error(`${what}: timed out after ${ms} ms`)), ms); })]).finally(() => clearTimeout(t));
}
export async function createTopics(specs) {
  const admin = new Admin({ clientId: 'setup', bootstrapBrokers: [BROKER] });
  try {
    for (const { topic, partitions } of specs) await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
  } finally { await admin.close(); }
  await sleep(300);
}
/** kafka-consumer-groups.sh --describe, via the broker's own jars. Returns the table lines. */
export function describeGroup(group) {
  const r = spawnSync(new URL('./broker.sh', import.meta.url).pathname, ['groups', group], { encoding: 'utf8', timeout: 60_000 });
  return (r.stdout + r.stderr).split('\n').filter((l) => l.trim() && !/WARN|SLF4J/.test(l));
}
export function check(name, ok, detail = '') {
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`);
  if (!ok) process.exitCode = 1;
  return ok;
}
