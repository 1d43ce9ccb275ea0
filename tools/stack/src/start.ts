/**
 * `npm start` entry point: runs the stack (stack-main) in its own process group, so Ctrl-C in the terminal
 * reaches only this supervisor and not every child at once; the stack then shuts down in order (services
 * commit and leave their groups, then Kafka, then Postgres) and this process exits with its code.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const stack = spawn(process.execPath, [join(__dirname, 'stack-main.js')], { stdio: 'inherit', detached: true });
let signals = 0;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    signals += 1;
    if (signals === 1) stack.kill('SIGTERM');
    else if (signals === 2) process.stderr.write('Still stopping gracefully… press Ctrl-C once more to kill everything now.\n');
    else process.kill(-stack.pid!, 'SIGKILL'); // the whole group: services, broker, Postgres
  });
}
stack.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
