/**
 * `npm start` entry point: runs the stack (stack-main) in its own process group, so Ctrl-C in the terminal
 * reaches only this supervisor and not every child at once; the stack then shuts down in order (services
 * commit and leave their groups, then Kafka, then Postgres) and this process exits with its code.
 *
 * Whatever way the stack ends (a failed start, a crash, even SIGKILL), anything still running in its group
 * (the broker, Postgres, services) is stopped before this process exits, so the next `npm start` finds its
 * ports free.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const LEFTOVER_GRACE_MS = 20_000;

const stack = spawn(process.execPath, [join(__dirname, 'stack-main.js')], { stdio: 'inherit', detached: true });
const group = -stack.pid!;
let signals = 0;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    signals += 1;
    if (signals === 1) stack.kill('SIGTERM');
    else if (signals === 2) process.stderr.write('Still stopping gracefully… press Ctrl-C once more to kill everything now.\n');
    else process.kill(group, 'SIGKILL'); // the whole group: services, broker, Postgres
  });
}

/** Signal 0 probes: true while any process of the stack's group is alive. */
function groupAlive(): boolean {
  try {
    process.kill(group, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(signal: NodeJS.Signals): void {
  try {
    process.kill(group, signal);
  } catch {
    // the group emptied meanwhile
  }
}

async function waitUntilGroupGone(timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (groupAlive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return !groupAlive();
}

/** SIGTERM to whatever the stack left in its group, SIGKILL after the grace. */
async function stopLeftovers(): Promise<void> {
  if (!groupAlive()) return;
  process.stderr.write('Stopping processes the stack left running…\n');
  signalGroup('SIGTERM');
  if (await waitUntilGroupGone(LEFTOVER_GRACE_MS)) return;
  signalGroup('SIGKILL');
  // Bounded: an unreaped zombie (no init in a container) would answer signal 0 forever.
  await waitUntilGroupGone(5_000);
}

stack.on('exit', (code, signal) => {
  void stopLeftovers().finally(() => process.exit(code ?? (signal ? 1 : 0)));
});
