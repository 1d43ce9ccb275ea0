/**
 * Starts the real infrastructure once for the integration and end-to-end tests: builds the code, then runs
 * the same launcher code `npm start` uses (tools/local-infra) in a child process: a Kafka broker (KRaft) and
 * an embedded Postgres on test ports with fresh data, migrated, seeded, topics created. KAFKA_BROKERS /
 * DATABASE_URL make it use existing ones instead.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = join(__dirname, '..', '..');

/**
 * The observability test scrapes the services with a real Prometheus. On this machine kind (Debian, root) a
 * missing server is installed from Debian's packages, so `npm test` works on a fresh machine.
 */
function ensurePrometheus(): void {
  if (spawnSync('prometheus', ['--version']).status === 0) return;
  if (process.getuid?.() !== 0 || spawnSync('apt-get', ['--version']).status !== 0) {
    process.stderr.write('prometheus is not installed and cannot be installed here (needs root and apt-get); the observability test will say what to do\n');
    return;
  }
  process.stderr.write('▸ Installing Prometheus from Debian packages (first run only)…\n');
  const install = () => spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'prometheus'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
  if (!install()) {
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
    install();
  }
  // The package's service is not wanted: the test starts its own server on a free port.
  spawnSync('sh', ['-c', 'command -v systemctl >/dev/null && systemctl stop prometheus prometheus-node-exporter 2>/dev/null; pkill -x prometheus-node-exporter; true']);
}

export default async function globalSetup(): Promise<void> {
  const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');
  ensurePrometheus();
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'tools', 'local-infra', 'src', 'infra-main.js')], {
    cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'], env: process.env,
  });
  (globalThis as { __streamguardInfra?: ChildProcess }).__streamguardInfra = child;
  const info = await new Promise<{ brokers: string; databaseUrl: string; adminUrl: string; brokerPid?: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('test infrastructure did not start within 300 s')), 300_000);
    child.once('exit', (code) => reject(new Error(`test infrastructure exited with code ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('STREAMGUARD_INFRA ')) {
        clearTimeout(timer);
        resolve(JSON.parse(line.slice('STREAMGUARD_INFRA '.length)));
      }
    });
  });
  // Workers are forked after this, so they inherit these.
  process.env.TEST_KAFKA_BROKERS = info.brokers;
  process.env.TEST_DATABASE_URL = info.databaseUrl;
  process.env.TEST_DATABASE_ADMIN_URL = info.adminUrl;
  if (info.brokerPid !== undefined) process.env.TEST_KAFKA_PID = String(info.brokerPid);
}
