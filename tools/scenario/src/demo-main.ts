/**
 * `npm run demo`: realistic synthetic traffic with planted fraud, sent to a running stack (`npm start`),
 * printing the alerts as they arrive and, at the end, which planted patterns were caught.
 *
 *   npm run demo -- [--rate 200] [--duration 30] [--seed 1] [--ingest http://127.0.0.1:8080] [--alert http://127.0.0.1:8083]
 *
 * Uses the API key in STREAMGUARD_API_KEY (ingest, read and admin scopes), else the local stack's demo key.
 */
import type { AlertMessage } from '@streamguard/common';
import { readDevKeys } from '../../local-infra/src/dev-keys';
import { streamguardHome } from '../../local-infra/src/paths';
import { done, fail, step } from '../../local-infra/src/progress';
import { deliveryOrder, generateScenario } from './scenario';
import { scenarioRules } from './scenario-rules';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const ingest = arg('ingest', 'http://127.0.0.1:8080');
  const alert = arg('alert', 'http://127.0.0.1:8083');
  const rate = Number(arg('rate', '200'));
  const duration = Number(arg('duration', '30'));
  const seed = Number(arg('seed', String(Date.now() % 100_000)));
  if (!(rate > 0 && duration > 0)) fail('--rate and --duration must be positive numbers');
  const apiKey = process.env.STREAMGUARD_API_KEY ?? readDevKeys(streamguardHome())?.tenant;
  if (!apiKey) fail('no API key: set STREAMGUARD_API_KEY (a key with ingest, read and admin scopes), or start the local stack with `npm start` first');
  const auth = { authorization: `Bearer ${apiKey}` };

  const ready = await fetch(`${ingest}/readyz`).then((r) => r.ok, () => false);
  if (!ready) fail(`ingest is not ready at ${ingest}: start the stack with \`npm start\` (or pass --ingest URL)`);
  for (const rule of scenarioRules()) {
    const response = await fetch(`${alert}/v1/rules`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify(rule) });
    if (response.status === 201) done(`rule ${rule.id} (${rule.type}) installed`);
    else if (response.status !== 409) fail(`could not install rule ${rule.id}: ${response.status} ${await response.text()}`);
  }

  const runId = `demo${seed}`;
  const startTime = Date.now() - 20 * 60_000;
  const backgroundEvents = Math.max(1, Math.round(rate * duration));
  const scenario = generateScenario({ seed, runId, startTime, backgroundAccounts: Math.max(10, Math.ceil(backgroundEvents / 8)), backgroundEvents });
  const order = deliveryOrder(scenario, seed + 1);
  step(`Sending ${order.length} events (${scenario.events.length} unique, out of order, some twice) at ~${rate}/s with ${scenario.expected.length} planted fraud patterns…`);

  const seen = new Map<string, AlertMessage>();
  const poll = async () => {
    const response = await fetch(`${alert}/v1/alerts?from=${startTime}&limit=1000`, { headers: auth }).catch(() => undefined);
    if (!response?.ok) return;
    for (const a of ((await response.json()) as { alerts: AlertMessage[] }).alerts) {
      if (!a.accountId.startsWith(runId) || seen.has(a.alertId)) continue;
      seen.set(a.alertId, a);
      process.stdout.write(`  \u001b[31m⚑ ${a.severity.toUpperCase().padEnd(8)}\u001b[0m ${a.ruleId.padEnd(18)} ${a.accountId}  ${a.explanation.summary}\n`);
    }
  };
  const poller = setInterval(() => void poll(), 500);

  const perTick = Math.max(1, Math.round(rate / 10));
  let sent = 0;
  const started = Date.now();
  for (let i = 0; i < order.length; ) {
    // A request never repeats an eventId (a redelivery is its own request).
    const batch: typeof order = [];
    const ids = new Set<string>();
    while (i < order.length && batch.length < perTick && !ids.has(order[i].eventId)) {
      ids.add(order[i].eventId);
      batch.push(order[i++]);
    }
    const response = await fetch(`${ingest}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', ...auth }, body: batch.map((e) => JSON.stringify(e)).join('\n') });
    if (response.status !== 202) fail(`ingest answered ${response.status}: ${await response.text()}`);
    sent += batch.length;
    const due = started + (sent / rate) * 1000;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    if (sent % (rate * 5) < batch.length) step(`${sent}/${order.length} sent`);
  }

  const deadline = Date.now() + 20_000;
  const caught = () => scenario.expected.filter((e) => [...seen.values()].some((a) => a.ruleId === e.ruleId && a.accountId === e.accountId));
  while (caught().length < scenario.expected.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  await poll();
  clearInterval(poller);
  process.stdout.write('\nPlanted patterns:\n');
  for (const e of scenario.expected) {
    const hit = caught().includes(e);
    process.stdout.write(`  ${hit ? '\u001b[32m✔' : '\u001b[31m✖'}\u001b[0m ${e.pattern} (${e.ruleId})\n`);
  }
  const extras = [...seen.values()].filter((a) => !scenario.expected.some((e) => e.ruleId === a.ruleId && e.accountId === a.accountId));
  done(`${caught().length}/${scenario.expected.length} planted patterns caught, ${extras.length} other alerts, ${sent} events in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (caught().length < scenario.expected.length) process.exitCode = 1;
}

main().catch((error) => fail((error as Error).message));
