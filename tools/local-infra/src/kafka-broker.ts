/**
 * A real Apache Kafka broker (KRaft, single node: broker + controller in one JVM) from Maven Central jars.
 * First use resolves `tools/kafka/pom.xml` with Maven into one folder, which becomes the classpath.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { REPO_ROOT } from './paths';
import { done, StartupFailure, step, waitFor } from './progress';

export const KAFKA_VERSION = /<kafka\.version>([^<]+)</.exec(readFileSync(join(REPO_ROOT, 'tools', 'kafka', 'pom.xml'), 'utf8'))![1];

export interface KafkaBrokerOptions {
  home: string;
  port: number;
  controllerPort: number;
  /** Delete data before starting (tests); otherwise a second start reuses the data. */
  fresh?: boolean;
  heapMb?: number;
  /**
   * Clients must authenticate with SASL/SCRAM on `port` (SASL_PLAINTEXT); the broker talks to itself on an
   * internal PLAINTEXT listener at `controllerPort + 1`. The users are created when the storage is formatted.
   */
  scramUsers?: Array<{ mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; username: string; password: string }>;
  /**
   * More PLAINTEXT listeners (not with SASL), each advertising another port: the fault suite puts a TCP proxy
   * there, so one service's whole conversation with the broker (bootstrap and metadata) goes through it.
   */
  extraListeners?: Array<{ name: string; port: number; advertisedPort: number }>;
}

export interface RunningKafka {
  brokers: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

function requireTool(command: string, args: string[], hint: string): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error || result.status !== 0) throw new Error(`${command} is needed to run the local Kafka broker. ${hint}`);
  return `${result.stdout}${result.stderr}`;
}

export function checkJava(): void {
  const out = requireTool('java', ['-version'], 'Install Java 17 or newer (Debian: apt-get install openjdk-17-jre-headless), or set KAFKA_BROKERS to use an existing broker.');
  const major = Number(/version "(\d+)/.exec(out)?.[1] ?? 0);
  if (major < 17) throw new Error(`Java ${major} found; Kafka ${KAFKA_VERSION} needs Java 17 or newer. Install it, or set KAFKA_BROKERS to use an existing broker.`);
}

/** Resolves the broker's jars once (cached under <home>/kafka/lib-<version>); prints progress. */
export async function ensureKafkaJars(home: string): Promise<string> {
  const libDir = join(home, 'kafka', `lib-${KAFKA_VERSION}`);
  const marker = join(libDir, '.complete');
  if (existsSync(marker)) return libDir;
  checkJava();
  requireTool('mvn', ['-v'], 'Install Maven (Debian: apt-get install maven), or set KAFKA_BROKERS to use an existing broker.');
  step(`Fetching Apache Kafka ${KAFKA_VERSION} from Maven Central (first run only, about 55 MB)…`);
  mkdirSync(libDir, { recursive: true });
  await new Promise<void>((resolve, reject) => {
    const mvn = spawn('mvn', ['-B', '-f', join(REPO_ROOT, 'tools', 'kafka', 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${libDir}`, '-DincludeScope=runtime'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let downloaded = 0;
    let tail = '';
    mvn.stdout.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      tail = (tail + text).slice(-4000);
      const count = text.split('Downloaded from').length - 1;
      if (count > 0) {
        downloaded += count;
        if (downloaded % 20 < count) process.stderr.write(`  … ${downloaded} artifacts downloaded\n`);
      }
    });
    mvn.stderr.on('data', (chunk: Buffer) => { tail = (tail + chunk.toString()).slice(-4000); });
    mvn.on('error', reject);
    mvn.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`Maven could not resolve the Kafka jars (exit ${code}). Check access to Maven Central. Last output:\n${tail}`))));
  });
  writeFileSync(marker, new Date().toISOString());
  done(`Kafka ${KAFKA_VERSION}: ${readdirSync(libDir).filter((f) => f.endsWith('.jar')).length} jars in ${libDir}`);
  return libDir;
}

function listenerProperties(port: number, controllerPort: number, sasl: boolean, extra: NonNullable<KafkaBrokerOptions['extraListeners']> = []): string[] {
  if (!sasl) {
    return [
      `listeners=${[`PLAINTEXT://127.0.0.1:${port}`, `CONTROLLER://127.0.0.1:${controllerPort}`, ...extra.map((l) => `${l.name}://127.0.0.1:${l.port}`)].join(',')}`,
      `advertised.listeners=${[`PLAINTEXT://127.0.0.1:${port}`, ...extra.map((l) => `${l.name}://127.0.0.1:${l.advertisedPort}`)].join(',')}`,
      `listener.security.protocol.map=${['PLAINTEXT:PLAINTEXT', 'CONTROLLER:PLAINTEXT', ...extra.map((l) => `${l.name}:PLAINTEXT`)].join(',')}`,
      'inter.broker.listener.name=PLAINTEXT',
    ];
  }
  const internal = controllerPort + 1;
  return [
    `listeners=SASL_PLAINTEXT://127.0.0.1:${port},INTERNAL://127.0.0.1:${internal},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=SASL_PLAINTEXT://127.0.0.1:${port},INTERNAL://127.0.0.1:${internal}`,
    'listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=INTERNAL',
    'sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512',
    'listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
  ];
}

function brokerProperties(dataDir: string, port: number, controllerPort: number, sasl: boolean, extra?: KafkaBrokerOptions['extraListeners']): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    ...listenerProperties(port, controllerPort, sasl, extra),
    'controller.listener.names=CONTROLLER',
    `log.dirs=${dataDir}`,
    'auto.create.topics.enable=false',
    // Single node: every internal topic has one replica; fewer partitions make coordinators load faster.
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=10',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'num.partitions=3',
    'log.retention.hours=168',
    'log.segment.bytes=67108864',
  ].join('\n') + '\n';
}

function log4jProperties(logFile: string): string {
  return [
    'status = warn',
    'appender.file.type = File',
    'appender.file.name = file',
    `appender.file.fileName = ${logFile}`,
    'appender.file.layout.type = PatternLayout',
    'appender.file.layout.pattern = [%d] %p %m (%c)%n',
    'rootLogger.level = info',
    'rootLogger.appenderRef.file.ref = file',
    'logger.kafka.name = kafka',
    'logger.kafka.level = warn',
    'logger.org.name = org.apache.kafka',
    'logger.org.level = warn',
  ].join('\n') + '\n';
}

export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

export async function startKafkaBroker(options: KafkaBrokerOptions): Promise<RunningKafka> {
  const libDir = await ensureKafkaJars(options.home);
  const dir = join(options.home, 'kafka');
  const dataDir = join(dir, `data-${options.port}`);
  // Check the port before touching data: never wipe the data of a broker that is running.
  if (await portOpen(options.port)) throw new Error(`port ${options.port} is already in use: another broker running? Stop it, or set KAFKA_BROKERS to use it.`);
  if (options.fresh) spawnSync('rm', ['-rf', dataDir]);
  mkdirSync(dataDir, { recursive: true });
  const propsFile = join(dir, `server-${options.port}.properties`);
  const log4jFile = join(dir, `log4j2-${options.port}.properties`);
  const logFile = join(dir, `broker-${options.port}.log`);
  writeFileSync(propsFile, brokerProperties(dataDir, options.port, options.controllerPort, Boolean(options.scramUsers?.length), options.extraListeners));
  writeFileSync(log4jFile, log4jProperties(logFile));
  const classpath = `${libDir}/*`;
  const jvm = [`-Xms256m`, `-Xmx${options.heapMb ?? 768}m`, '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-Djava.awt.headless=true', `-Dlog4j2.configurationFile=${log4jFile}`, '-cp', classpath];
  if (!existsSync(join(dataDir, 'meta.properties'))) {
    step('Formatting Kafka storage (KRaft)…');
    const clusterId = spawnSync('java', ['-cp', classpath, 'kafka.tools.StorageTool', 'random-uuid'], { encoding: 'utf8' }).stdout.trim().split('\n').pop()!;
    const scram = (options.scramUsers ?? []).flatMap((u) => ['--add-scram', `${u.mechanism}=[name=${u.username},password=${u.password}]`]);
    const format = spawnSync('java', [...jvm, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', propsFile, '--ignore-formatted', ...scram], { encoding: 'utf8' });
    if (format.status !== 0) throw new Error(`formatting Kafka storage failed:\n${format.stdout}${format.stderr}`);
  }
  step(`Starting Kafka ${KAFKA_VERSION} on 127.0.0.1:${options.port} (log: ${logFile})…`);
  const out = createWriteStream(join(dir, `broker-${options.port}.out`), { flags: 'a' });
  const child = spawn('java', [...jvm, 'kafka.Kafka', propsFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  let failure: StartupFailure | undefined;
  child.once('error', (error: NodeJS.ErrnoException) => { failure = new StartupFailure(`could not run java (${error.code ?? error.message}): install Java 17 or newer, or set KAFKA_BROKERS to use an existing broker.`); });
  child.once('exit', () => { failure ??= new StartupFailure(`the Kafka broker exited during start-up; see ${logFile}`); });
  try {
    await waitFor('Kafka broker', async () => {
      if (failure) throw failure;
      return portOpen(options.port);
    }, 60_000);
  } catch (error) {
    await stopProcess(child, 20_000); // a broker that never became ready must not outlive this failure
    throw error;
  }
  done(`Kafka ready at 127.0.0.1:${options.port}`);
  return {
    brokers: `127.0.0.1:${options.port}`,
    process: child,
    stop: () => stopProcess(child, 20_000),
  };
}

/** `signal` (SIGTERM: Kafka and our services shut down cleanly), SIGKILL after `graceMs`. */
export function stopProcess(child: ChildProcess, graceMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  // No pid: the spawn itself failed, there is nothing to stop (and no 'exit' will come).
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill(signal);
  });
}
