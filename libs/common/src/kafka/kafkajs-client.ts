/**
 * The only module that imports `kafkajs`. Everything else sees the types of `kafka.port.ts`.
 *
 * KafkaJS 2.2.4 is unmaintained but speaks to Kafka 4.x (measured here against 4.3.1: produce, consumer
 * groups, transactions, read_committed). Replacing it means re-implementing this file only.
 */
import { readFileSync } from 'node:fs';
// Must come before 'kafkajs': it replaces KafkaJS's aborted-transaction filter (see the file).
import './kafkajs-aborted-filter';
import { createKeyHashPartitioner } from './kafkajs-fast-encoding'; // likewise: cheaper produce encoding, same bytes (see the file)
import { Admin, ConfigResourceTypes, Consumer, ICustomPartitioner, ISocketFactory, Kafka, KafkaConfig, logLevel, LogEntry, Partitioners, Producer, CompressionTypes, SASLOptions } from 'kafkajs';
import type { Logger } from '../logging/logger';
import {
  Assignment, BatchConsumer, BatchConsumerOptions, BatchHandler, InboundRecord, KafkaAdminPort, KafkaHeaders,
  KafkaPort, OutboundRecord, RecordProducer, TopicPartitionOffset, TopicSpec, TransactionalProducer,
} from './kafka.port';

export interface KafkaSecurity {
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  /** TLS on; with a CA (PEM) other than the system's, and optionally a client certificate (mutual TLS). */
  tls?: { ca?: string; cert?: string; key?: string };
}

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  security?: KafkaSecurity;
  /** Per-request timeout; also bounds how long a produce may wait for an unavailable broker. */
  requestTimeoutMs?: number;
  connectionTimeoutMs?: number;
  /** How long a consumer fetch may wait at the broker when no records are available (default 100 ms). */
  fetchMaxWaitMs?: number;
}

// Both partitioners hash keys the Java client's way (murmur2), which is what we want; the warning is noise.
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';

// KafkaJS logs routine, self-healing conditions (coordinator loading, concurrent transactions) at ERROR.
// We log them at warn and let the caller decide what is an error.
// Conditions KafkaJS retries by itself within a second or two, e.g. while a fresh broker loads its
// coordinators: not worth a warning unless they persist (then a real error follows).
const TRANSIENT = /coordinator is loading|coordinator is not available|not the correct coordinator|concurrent operation on the same transaction|Restarting the consumer|There is no leader for this topic-partition|rebalance in progress/i;

export function isTransientKafkaMessage(text: string): boolean {
  return TRANSIENT.test(text);
}

function logCreator(logger: Logger) {
  return () => ({ namespace, level, log }: LogEntry) => {
    const { message, ...fields } = log;
    // Expected: we bound retries on purpose and replace the producer after a failure (see KafkaEventPublisher).
    if (message.startsWith('Limiting retries for the idempotent producer')) return;
    const transient = isTransientKafkaMessage(`${message} ${String((fields as { error?: unknown }).error ?? '')}`);
    const target = transient ? 'debug' : level <= logLevel.WARN ? 'warn' : level === logLevel.INFO ? 'info' : 'debug';
    logger[target](`kafkajs ${namespace ?? "client"}: ${message}`, { kafka: fields });
  };
}

/**
 * KafkaJS's socket factory plus TCP_NODELAY (Kafka's own clients and the broker set it; KafkaJS leaves Nagle's
 * algorithm on, so a small request written while earlier bytes are unacknowledged can wait for a delayed ACK).
 * Found while timing enrich's Kafka transaction at 1,000 events/s on the benchmark machine: each step (add
 * partitions + produce, offsets, commit) took 5–40 ms against a local broker. With it, in one probe run:
 * enrich's end-to-end p50 136 → 114 ms, ingest's acks=all produce p50 13 → 9 ms; the steps still take 5–30 ms
 * on the busy 2 cores, so most of that time is the broker's, not the socket's.
 */
const defaultSocketFactory = (require('kafkajs/src/network/socketFactory') as () => ISocketFactory)();
const noDelaySocketFactory: ISocketFactory = (args) => {
  const socket = defaultSocketFactory(args);
  socket.setNoDelay(true);
  return socket;
};

export function createKafkaClient(options: KafkaClientOptions): KafkaPort {
  const config: KafkaConfig = {
    clientId: options.clientId,
    brokers: options.brokers,
    logLevel: logLevel.WARN,
    logCreator: logCreator(options.logger),
    requestTimeout: options.requestTimeoutMs ?? 30000,
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    retry: { initialRetryTime: 200, maxRetryTime: 5000, retries: 8 },
    ssl: options.security?.tls ? { ca: options.security.tls.ca, cert: options.security.tls.cert, key: options.security.tls.key, rejectUnauthorized: true } : undefined,
    sasl: options.security?.sasl as SASLOptions | undefined,
    socketFactory: noDelaySocketFactory,
  };
  const kafka = new Kafka(config);
  return new KafkaJsPort(kafka, options.logger, options.fetchMaxWaitMs ?? 100);
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

function toMessages(records: OutboundRecord[]) {
  return records.map((r) => ({ key: r.key, value: r.value, headers: r.headers, partition: r.partition }));
}

/**
 * Splits records into chunks of at most MAX_REQUEST_BYTES of keys, headers and values, in order. Each chunk is one
 * produce request, so no partition's record batch can exceed the broker's `message.max.bytes` (1 MiB by
 * default) however large a consumer batch or an ingest request is.
 */
const MAX_REQUEST_BYTES = 512 * 1024;
const RECORD_OVERHEAD_BYTES = 64;

export function chunkBySize(records: OutboundRecord[], maxBytes = MAX_REQUEST_BYTES): OutboundRecord[][] {
  const chunks: OutboundRecord[][] = [];
  let current: OutboundRecord[] = [];
  let size = 0;
  for (const record of records) {
    let bytes = (typeof record.value === 'string' ? Buffer.byteLength(record.value) : record.value.length) + (record.key ? Buffer.byteLength(record.key) : 0) + RECORD_OVERHEAD_BYTES;
    for (const name in record.headers) bytes += Buffer.byteLength(name) + Buffer.byteLength(record.headers[name]);
    if (current.length > 0 && size + bytes > maxBytes) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(record);
    size += bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Groups records by topic, preserving order within each topic (KafkaJS wants one entry per topic). */
function byTopic(records: OutboundRecord[]) {
  const grouped = new Map<string, OutboundRecord[]>();
  for (const record of records) {
    const list = grouped.get(record.topic);
    if (list) list.push(record);
    else grouped.set(record.topic, [record]);
  }
  return [...grouped].map(([topic, list]) => ({ topic, messages: toMessages(list) }));
}

/** KafkaJS's DefaultPartitioner, minus a per-record scan that only unkeyed records need (same partitions). */
const keyHashPartitioner = createKeyHashPartitioner(Partitioners.DefaultPartitioner as never) as unknown as ICustomPartitioner;

class KafkaJsPort implements KafkaPort {
  constructor(private readonly kafka: Kafka, private readonly logger: Logger, private readonly fetchMaxWaitMs: number) {}

  async producer(): Promise<RecordProducer> {
    const producer = this.kafka.producer({
      idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: keyHashPartitioner,
    });
    const wrapped = new KafkaJsProducer(producer);
    await producer.connect();
    return wrapped;
  }

  async transactionalProducer(transactionalId: string): Promise<TransactionalProducer> {
    const producer = this.kafka.producer({
      transactionalId, idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false,
      transactionTimeout: 60000, createPartitioner: keyHashPartitioner,
    });
    await producer.connect();
    // connect() alone does not use the transactional id. An empty transaction does: InitProducerId fences
    // every earlier producer with this id and completes its pending transaction, before we read or write
    // anything (its abort sends nothing to the broker).
    await (await producer.transaction()).abort();
    return new KafkaJsTransactionalProducer(producer);
  }

  async batchConsumer(options: BatchConsumerOptions): Promise<BatchConsumer> {
    const consumer = this.kafka.consumer({
      groupId: options.groupId,
      readUncommitted: !options.readCommitted,
      allowAutoTopicCreation: false,
      // A crashed member's partitions move after this long; short enough for quick failover, long enough
      // for a GC pause or a slow batch (heartbeats also go out during long batches).
      sessionTimeout: 10000,
      rebalanceTimeout: 60000,
      heartbeatInterval: 3000,
      maxWaitTimeInMs: this.fetchMaxWaitMs,
      maxBytesPerPartition: 1024 * 1024,
    });
    const wrapped = new KafkaJsBatchConsumer(consumer, options, this.logger);
    await consumer.connect();
    for (const topic of options.topics) await consumer.subscribe({ topic, fromBeginning: options.fromBeginning });
    return wrapped;
  }

  async admin(): Promise<KafkaAdminPort> {
    const admin = this.kafka.admin();
    await admin.connect();
    return new KafkaJsAdmin(admin);
  }
}

class KafkaJsProducer implements RecordProducer {
  private connected = false;
  constructor(private readonly producer: Producer) {
    producer.on(producer.events.CONNECT, () => { this.connected = true; });
    producer.on(producer.events.DISCONNECT, () => { this.connected = false; });
  }

  async send(records: OutboundRecord[]): Promise<void> {
    for (const chunk of chunkBySize(records)) {
      await this.producer.sendBatch({ acks: -1, compression: CompressionTypes.None, topicMessages: byTopic(chunk) });
    }
  }

  isConnected(): boolean {
    return this.connected;
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }
}

class KafkaJsTransactionalProducer implements TransactionalProducer {
  constructor(private readonly producer: Producer) {}

  async sendAtomically(records: OutboundRecord[], groupId: string, offsets: TopicPartitionOffset[]): Promise<void> {
    const transaction = await this.producer.transaction();
    try {
      for (const chunk of chunkBySize(records)) await transaction.sendBatch({ acks: -1, topicMessages: byTopic(chunk) });
      const topics = new Map<string, { partition: number; offset: string }[]>();
      for (const o of offsets) {
        const list = topics.get(o.topic) ?? [];
        list.push({ partition: o.partition, offset: o.offset });
        topics.set(o.topic, list);
      }
      await transaction.sendOffsets({ consumerGroupId: groupId, topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })) });
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      throw error;
    }
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }
}

function decodeHeaders(headers: Record<string, unknown> | undefined): KafkaHeaders {
  const out: KafkaHeaders = {};
  if (!headers) return out;
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    out[k] = Buffer.isBuffer(v) ? v.toString('utf8') : Array.isArray(v) ? String(v[0]) : String(v);
  }
  return out;
}

class KafkaJsBatchConsumer implements BatchConsumer {
  private joined = false;
  private crashed = false;
  private stopping = false;
  private assignment: Assignment[] = [];
  private readonly resumeTimers = new Set<NodeJS.Timeout>();

  constructor(private readonly consumer: Consumer, private readonly options: BatchConsumerOptions, private readonly logger: Logger) {
    const { GROUP_JOIN, CRASH, REBALANCING, STOP, DISCONNECT } = consumer.events;
    consumer.on(GROUP_JOIN, ({ payload }) => {
      this.joined = true;
      this.crashed = false;
      const next: Assignment[] = Object.entries(payload.memberAssignment).map(([topic, partitions]) => ({ topic, partitions: [...partitions] }));
      const revoked = diffAssignments(this.assignment, next);
      const added = diffAssignments(next, this.assignment);
      this.assignment = next;
      this.logger.info('partitions assigned', { groupId: options.groupId, assignment: next, revoked });
      options.onAssignment?.(added, revoked);
    });
    consumer.on(REBALANCING, () => { this.joined = false; });
    consumer.on(CRASH, ({ payload }) => {
      this.crashed = true;
      const message = payload.error?.message ?? '';
      if (!payload.restart && !this.stopping) {
        // KafkaJS gave up for good: a process that can never consume again must not look alive. Exit and
        // let the orchestrator (or npm start) restart it; committed work is safe by construction.
        this.logger.error('consumer stopped for good; exiting so the process is restarted', { groupId: options.groupId, error: message });
        setTimeout(() => process.exit(1), 100).unref();
        return;
      }
      const level = isTransientKafkaMessage(message) ? 'debug' : 'warn';
      this.logger[level]('consumer crashed; KafkaJS restarts it', { groupId: options.groupId, error: message });
    });
    consumer.on(STOP, () => { this.joined = false; });
    consumer.on(DISCONNECT, () => { this.joined = false; });
  }

  async run(handler: BatchHandler): Promise<void> {
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionConcurrency,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale, pause }) => {
        if (batch.messages.length === 0) return;
        let retried = false;
        // KafkaJS 2 heartbeats only between batches: keep the membership alive while a batch takes long.
        const heartbeats = setInterval(() => void heartbeat().catch(() => undefined), 3000);
        const records: InboundRecord[] = batch.messages.map((m) => ({
          topic: batch.topic,
          partition: batch.partition,
          offset: m.offset,
          key: m.key ? m.key.toString('utf8') : null,
          value: m.value,
          headers: decodeHeaders(m.headers),
          timestamp: Number(m.timestamp),
        }));
        try {
          // lastOffset() is the last fetched entry, control records and aborted records included.
          const nextOffset = String(BigInt(batch.lastOffset()) + 1n);
          await handler({ topic: batch.topic, partition: batch.partition, records, nextOffset }, {
            heartbeat,
            isActive: () => isRunning() && !isStale() && !this.stopping,
            retryFrom: (_offset, delayMs) => {
              retried = true;
              // Pause only this partition and resume after the back-off: other partitions keep flowing. No
              // seek: an unresolved batch is fetched again from its start, and a pending seek would survive
              // a revocation and rewind the partition if it ever came back.
              const resume = pause();
              const timer = setTimeout(() => { this.resumeTimers.delete(timer); resume(); }, delayMs);
              this.resumeTimers.add(timer);
            },
          });
        } finally {
          clearInterval(heartbeats);
        }
        if (!retried) resolveOffset(batch.messages[batch.messages.length - 1].offset);
      },
    });
  }

  async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    if (offsets.length > 0) await this.consumer.commitOffsets(offsets);
  }

  isReady(): boolean {
    return this.joined && !this.crashed && !this.stopping;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const timer of this.resumeTimers) clearTimeout(timer);
    // disconnect() stops fetching, waits for the running eachBatch calls, then leaves the group.
    await this.consumer.disconnect();
  }
}

function diffAssignments(a: Assignment[], b: Assignment[]): Assignment[] {
  const out: Assignment[] = [];
  for (const { topic, partitions } of a) {
    const other = new Set(b.find((x) => x.topic === topic)?.partitions ?? []);
    const missing = partitions.filter((p) => !other.has(p));
    if (missing.length > 0) out.push({ topic, partitions: missing });
  }
  return out;
}

class KafkaJsAdmin implements KafkaAdminPort {
  constructor(private readonly admin: Admin) {}

  async ensureTopics(topics: TopicSpec[]): Promise<string[]> {
    const existing = new Set(await this.admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length > 0) {
      await this.admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({
          topic: t.topic, numPartitions: t.partitions, replicationFactor: t.replicationFactor,
          configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })),
        })),
      });
    }
    return missing.map((t) => t.topic);
  }

  async consumerLag(groupId: string, topic: string): Promise<{ partition: number; lag: number }[]> {
    const [committed, ends] = await Promise.all([
      this.admin.fetchOffsets({ groupId, topics: [topic] }),
      this.admin.fetchTopicOffsets(topic),
    ]);
    const committedByPartition = new Map<number, number>();
    for (const p of committed[0]?.partitions ?? []) committedByPartition.set(p.partition, Number(p.offset));
    return ends.map((end) => {
      const done = committedByPartition.get(end.partition) ?? -1;
      const start = done < 0 ? Number(end.low) : done;
      return { partition: end.partition, lag: Math.max(0, Number(end.high) - start) };
    });
  }

  async committedOffset(groupId: string, topic: string, partition: number): Promise<string | null> {
    const [entry] = await this.admin.fetchOffsets({ groupId, topics: [topic] });
    const offset = entry?.partitions.find((p) => p.partition === partition)?.offset;
    return offset === undefined || offset === '-1' ? null : offset;
  }

  async topicConfig(topic: string): Promise<Record<string, string>> {
    const { resources } = await this.admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }] });
    return Object.fromEntries((resources[0]?.configEntries ?? []).map((entry) => [entry.configName, entry.configValue]));
  }

  disconnect(): Promise<void> {
    return this.admin.disconnect();
  }
}

/**
 * The partition the services' producers choose for `key` (murmur2, as the Java client does), for tools and
 * tests that need one record per partition.
 */
export function partitionForKey(key: string, partitionCount: number): number {
  const choose = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitionCount }, (_, partitionId) => ({ partitionId, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
  return choose({ topic: 'any', partitionMetadata, message: { key, value: null } });
}
