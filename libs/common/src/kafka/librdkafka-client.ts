/**
 * The only module that imports the Kafka client: `@confluentinc/kafka-javascript`, Confluent's binding of
 * librdkafka (the C client with the Java client's semantics: idempotence, transactions, KIP-447 stable offset
 * reads, cooperative rebalancing). Everything else sees the types of `kafka.port.ts`. Why this client and not
 * another: docs/kafka-client-choice.md.
 *
 * Two of its APIs are used, both public and documented:
 * - the KafkaJS-shaped promise API (`KafkaJS.Kafka`) for producers, transactions and the admin client;
 * - the librdkafka-shaped `KafkaConsumer` for the batch consumer, because only it exposes the consumer's
 *   position (the offset past transaction markers, see `PartitionBatch.nextOffset`) and lets us decide when a
 *   revoked partition is given up (after its in-flight batch finished).
 */
import { GlobalConfig, KafkaConsumer, KafkaJS, LibrdKafkaError, Message, Metadata, Producer, ProducerGlobalConfig, TopicPartition } from '@confluentinc/kafka-javascript';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logging/logger';
import {
  Assignment, BatchConsumer, BatchConsumerOptions, BatchHandler, InboundRecord, KafkaAdminPort, KafkaHeaders,
  KafkaPort, OutboundRecord, RecordProducer, TopicPartitionOffset as PortOffset, TopicSpec, TransactionalProducer,
} from './kafka.port';
import type { KafkaSecurity } from './kafka-security';

// Public methods of KafkaConsumer that the package's type declarations (1.10.1) leave out; see its
// lib/kafka-consumer.js and the node-rdkafka API documentation.
declare module '@confluentinc/kafka-javascript/types/rdkafka' {
  interface KafkaConsumer {
    incrementalAssign(assignments: TopicPartition[]): this;
    incrementalUnassign(assignments: TopicPartition[]): this;
    rebalanceProtocol(): 'NONE' | 'EAGER' | 'COOPERATIVE';
    assignmentLost(): boolean;
    commitCb(toppars: TopicPartitionOffset[], cb: (err: LibrdKafkaError | null) => void): this;
    setDefaultIsTimeoutOnlyForFirstMessage(isTimeoutOnlyForFirstMessage: boolean): void;
  }
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

/** librdkafka error codes we act on (rdkafka.h). */
const ERR_ASSIGN_PARTITIONS = -175;
const ERR_REVOKE_PARTITIONS = -174;
const ERR_TIMED_OUT = -185;
/** librdkafka's "no offset" (RD_KAFKA_OFFSET_INVALID): position() before anything was fetched. */
const OFFSET_INVALID = -1001;
/** Logical start offsets for a partition with no committed offset (RD_KAFKA_OFFSET_BEGINNING / _END). */
const OFFSET_BEGINNING = -2;
const OFFSET_END = -1;

/** Our transactional producers' `transaction.timeout.ms`: the broker aborts a transaction open longer. */
const TRANSACTION_TIMEOUT_MS = 60_000;
/**
 * How long a stable read of committed offsets waits for a pending transactional commit: our longest
 * transaction, plus the broker's sweep for timed-out ones (`transaction.abort.timed.out.transaction.cleanup.interval.ms`,
 * 10 s), plus a margin. A commit still pending after that belongs to no live transaction (see stableCommittedOffsets).
 */
const PENDING_COMMIT_BOUND_MS = TRANSACTION_TIMEOUT_MS + 10_000 + 20_000;

/** How long a client may take to connect before the attempt counts as failed. */
const CONNECT_TIMEOUT_MS = 30_000;

/** At most this many records are taken from the client per poll, over all partitions. */
const MAX_RECORDS_PER_POLL = 5_000;

// Conditions the client retries by itself within a second or two, e.g. while a fresh broker loads its
// coordinators: not worth a warning unless they persist (then a real error follows).
const TRANSIENT = /coordinator is loading|coordinator is not available|not the correct coordinator|concurrent transactions|not coordinator|rebalance in progress|no leader|leader not available|unstable offset commit/i;

export function isTransientKafkaMessage(text: string): boolean {
  return TRANSIENT.test(text);
}

/** librdkafka's own settings for the connection: bootstrap servers, client id, security. */
function connectionConfig(options: KafkaClientOptions): Record<string, string | number | boolean> {
  const config: Record<string, string | number | boolean> = {
    'bootstrap.servers': options.brokers.join(','),
    'client.id': options.clientId,
    'socket.connection.setup.timeout.ms': options.connectionTimeoutMs ?? 10_000,
    // Logs reach us as events (forwarded to our logger), never on stderr; warnings and errors only.
    'log_level': 4,
  };
  const { sasl, tls } = options.security ?? {};
  config['security.protocol'] = sasl ? (tls ? 'sasl_ssl' : 'sasl_plaintext') : tls ? 'ssl' : 'plaintext';
  if (sasl) {
    config['sasl.mechanisms'] = sasl.mechanism.toUpperCase();
    config['sasl.username'] = sasl.username;
    config['sasl.password'] = sasl.password;
  }
  if (tls?.ca) config['ssl.ca.pem'] = tls.ca;
  if (tls?.cert) config['ssl.certificate.pem'] = tls.cert;
  if (tls?.key) config['ssl.key.pem'] = tls.key;
  return config;
}

const AUTH_FAILURE = /SASL authentication|authentication failed|invalid credentials|SSL handshake failed|certificate verify failed/i;

/**
 * The client's log lines into ours: routine, self-healing conditions at debug, the rest at warn. Credential
 * and TLS failures are also handed to `onAuthFailure`: librdkafka only logs them, and a failed connect()
 * otherwise says no more than "broker transport failure".
 */
function clientLogger(logger: Logger, onAuthFailure: (message: string) => void): KafkaJS.Logger {
  const forward = (level: 'debug' | 'warn') => (message: string, extra?: object) => {
    if (AUTH_FAILURE.test(message)) onAuthFailure(message);
    logger[isTransientKafkaMessage(message) ? 'debug' : level](`kafka client: ${message}`, { kafka: extra });
  };
  const bridge: KafkaJS.Logger = {
    debug: forward('debug'), info: forward('debug'), warn: forward('warn'), error: forward('warn'),
    namespace: () => bridge, setLogLevel: () => undefined,
  };
  return bridge;
}

export function createKafkaClient(options: KafkaClientOptions): KafkaPort {
  return new LibrdKafkaPort(options);
}

class LibrdKafkaPort implements KafkaPort {
  private readonly kafka: KafkaJS.Kafka;
  private authFailure?: string;

  constructor(private readonly options: KafkaClientOptions) {
    const logger = clientLogger(options.logger, (message) => { this.authFailure = message; });
    this.kafka = new KafkaJS.Kafka({
      ...(connectionConfig(options) as GlobalConfig),
      kafkaJS: { brokers: options.brokers, clientId: options.clientId, logger, logLevel: KafkaJS.logLevel.WARN },
    });
  }

  /**
   * connect(), with the reason the broker refused us when the client only logged it, and bounded: a connect
   * that neither succeeds nor fails within CONNECT_TIMEOUT_MS is reported as a failure (the caller retries).
   */
  private async connect(client: { connect(): Promise<void> }): Promise<void> {
    this.authFailure = undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.connect(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no connection to Kafka (${this.options.brokers.join(',')}) within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS);
        }),
      ]);
    } catch (error) {
      if (this.authFailure) throw new Error(`Kafka refused the connection: ${this.authFailure} (check KAFKA_SASL_* / KAFKA_TLS*)`, { cause: error });
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  private producerConfig(transactionalId?: string): KafkaJS.ProducerConstructorConfig {
    const timeoutMs = this.options.requestTimeoutMs ?? 30_000;
    return {
      kafkaJS: { idempotent: true, acks: -1, allowAutoTopicCreation: false, ...(transactionalId ? { transactionalId, transactionTimeout: TRANSACTION_TIMEOUT_MS } : {}) },
      // Bounds how long a send may wait for an unavailable broker (librdkafka's default is 5 minutes).
      'message.timeout.ms': timeoutMs,
      'request.timeout.ms': timeoutMs,
      // A few ms of batching: cheaper produce requests under load, invisible next to acks=all's round trip.
      'linger.ms': 2,
      // The client's own cap on one record (librdkafka's default is 1 MB). The broker enforces each topic's
      // max.message.bytes; the client must not refuse what a topic was configured to take.
      'message.max.bytes': 16 * 1024 * 1024,
    };
  }

  /**
   * The plain producer (ingest's hot path) is librdkafka's own Producer, not the promise API: one delivery
   * tracker per send() instead of a promise and a metadata object per record.
   */
  async producer(): Promise<RecordProducer> {
    const timeoutMs = this.options.requestTimeoutMs ?? 30_000;
    const producer = new Producer({
      ...connectionConfig(this.options),
      'enable.idempotence': true, 'dr_cb': true, 'allow.auto.create.topics': false,
      'linger.ms': 2, 'message.max.bytes': 16 * 1024 * 1024,
    } as ProducerGlobalConfig, {
      // Topic-level settings (the topic configuration given here replaces any set globally). murmur2_random:
      // the Java client's partitioner (librdkafka's default is CRC32), see key-partitioner.ts.
      acks: -1, partitioner: 'murmur2_random', 'message.timeout.ms': timeoutMs, 'request.timeout.ms': timeoutMs,
    });
    const wrapped = new LibrdKafkaProducer(producer, this.options.logger);
    this.authFailure = undefined;
    producer.on('event.log', (log: { message: string }) => { if (AUTH_FAILURE.test(log.message)) this.authFailure = log.message; });
    await this.connect({ connect: () => new Promise<void>((resolve, reject) => producer.connect({ timeout: CONNECT_TIMEOUT_MS }, (error) => (error ? reject(error) : resolve()))) });
    producer.setPollInBackground(true);
    return wrapped;
  }

  async transactionalProducer(transactionalId: string): Promise<TransactionalProducer> {
    const producer = this.kafka.producer(this.producerConfig(transactionalId));
    // connect() runs InitProducerId: it fences every earlier producer with this id and completes (aborts)
    // its pending transaction before we read or write anything.
    await this.connect(producer);
    return new LibrdKafkaTransactionalProducer(producer, (groupId) => this.kafka.consumer({ kafkaJS: { groupId, autoCommit: false } }));
  }

  async batchConsumer(options: BatchConsumerOptions): Promise<BatchConsumer> {
    const consumer = new LibrdKafkaBatchConsumer(connectionConfig(this.options), options, this.options.logger, this.options.fetchMaxWaitMs ?? 100);
    await consumer.connect();
    return consumer;
  }

  async admin(): Promise<KafkaAdminPort> {
    const admin = this.kafka.admin();
    await this.connect(admin);
    return new LibrdKafkaAdmin(admin, connectionConfig(this.options), this.options.logger);
  }
}

/** Keys as bytes too: the binding passes a string key to C as a C string, which a NUL byte would cut short. */
function toMessage(record: OutboundRecord): KafkaJS.Message {
  return {
    key: record.key === null ? null : Buffer.from(record.key, 'utf8'),
    value: typeof record.value === 'string' ? Buffer.from(record.value) : record.value,
    headers: record.headers,
    partition: record.partition,
  };
}

/** `items` grouped by their topic, in first-seen order, each group keeping the items' order. */
function groupByTopic<T extends { topic: string }, V>(items: T[], value: (item: T) => V): Array<[topic: string, values: V[]]> {
  const grouped = new Map<string, V[]>();
  for (const item of items) {
    const list = grouped.get(item.topic);
    if (list) list.push(value(item));
    else grouped.set(item.topic, [value(item)]);
  }
  return [...grouped];
}

function byTopic(records: OutboundRecord[]): KafkaJS.TopicMessages[] {
  return groupByTopic(records, toMessage).map(([topic, messages]) => ({ topic, messages }));
}

/** One send() call's records: settled when the last delivery report arrives. */
interface DeliveryTracker {
  remaining: number;
  error?: Error;
  resolve(): void;
  reject(error: Error): void;
}

const ERR_QUEUE_FULL = -184;

class LibrdKafkaProducer implements RecordProducer {
  private connected = true;

  constructor(private readonly producer: Producer, logger: Logger) {
    producer.on('delivery-report', (error: LibrdKafkaError | null, report: { opaque?: DeliveryTracker }) => {
      const tracker = report.opaque;
      if (!tracker) return;
      if (error) tracker.error ??= error as unknown as Error;
      if (--tracker.remaining === 0) {
        if (tracker.error) tracker.reject(tracker.error);
        else tracker.resolve();
      }
    });
    producer.on('event.error', (error: LibrdKafkaError) => {
      if (error.isFatal) this.connected = false; // unusable: the owner makes a new one
      logger[isTransientKafkaMessage(error.message) ? 'debug' : 'warn']('kafka producer error (the client retries)', { error: error.message, code: error.code });
    });
    producer.on('event.log', (log: { message: string }) => logger[isTransientKafkaMessage(log.message) ? 'debug' : 'warn'](`kafka client: ${log.message}`));
  }

  /** Resolves once every record is acknowledged by all in-sync replicas (acks=-1), or rejects with the first error. */
  async send(records: OutboundRecord[]): Promise<void> {
    if (records.length === 0) return;
    await new Promise<void>((resolve, reject) => {
      const tracker: DeliveryTracker = { remaining: records.length, resolve, reject };
      let next = 0;
      const enqueue = () => {
        for (; next < records.length; next++) {
          const r = records[next];
          try {
            this.producer.produce(r.topic, r.partition ?? -1, typeof r.value === 'string' ? Buffer.from(r.value) : r.value,
              r.key === null ? null : Buffer.from(r.key, 'utf8'), undefined, tracker, toRdKafkaHeaders(r.headers));
          } catch (error) {
            // The client's local queue is full: wait for deliveries to make room, then go on where we stopped.
            if ((error as LibrdKafkaError).code === ERR_QUEUE_FULL) return void setTimeout(enqueue, 5);
            tracker.error ??= error as Error;
            tracker.remaining -= records.length - next; // nothing from here on was enqueued
            if (tracker.remaining === 0) reject(tracker.error);
            return;
          }
        }
      };
      enqueue();
    });
  }

  isConnected(): boolean {
    return this.connected;
  }

  async disconnect(): Promise<void> {
    this.connected = false;
    await new Promise<void>((resolve) => this.producer.flush(10_000, () => resolve()));
    await new Promise<void>((resolve) => this.producer.disconnect(() => resolve()));
  }
}

function toRdKafkaHeaders(headers: KafkaHeaders | undefined): Array<Record<string, Buffer>> | undefined {
  if (!headers) return undefined;
  const list: Array<Record<string, Buffer>> = [];
  for (const name in headers) list.push({ [name]: Buffer.from(headers[name], 'utf8') });
  return list;
}

/**
 * One connected client per key (a consumer group's handle), opened on first use and shared after; a failed
 * connect is forgotten, so the next use opens it again.
 */
class ConnectionsByKey<T> {
  private readonly connections = new Map<string, Promise<T>>();

  get(key: string, open: () => Promise<T>): Promise<T> {
    let connection = this.connections.get(key);
    if (!connection) {
      connection = open();
      connection.catch(() => this.connections.delete(key));
      this.connections.set(key, connection);
    }
    return connection;
  }

  /** Closes every connection that opened; errors while closing are ignored (we are leaving). */
  async closeAll(close: (connection: T) => Promise<void>): Promise<void> {
    const connections = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(connections.map((c) => c.then(close).catch(() => undefined)));
  }
}

/**
 * Offsets go into a transaction through a consumer handle of their group (librdkafka takes the group from
 * it). We pass one that is connected but never subscribes: generation -1 and no member id, the form the
 * broker accepts from transactional producers that fence by transactional id (ours: one per input
 * partition) rather than by consumer generation — and the only form possible for the outbox's marker
 * group, which has no consumer at all.
 */
class LibrdKafkaTransactionalProducer implements TransactionalProducer {
  private readonly groupHandles = new ConnectionsByKey<KafkaJS.Consumer>();

  constructor(private readonly producer: KafkaJS.Producer, private readonly newGroupHandle: (groupId: string) => KafkaJS.Consumer) {}

  async sendAtomically(records: OutboundRecord[], commit?: { groupId: string; offsets: PortOffset[] }): Promise<void> {
    const offsets = commit?.offsets ?? [];
    const consumer = !commit || offsets.length === 0 ? undefined : await this.groupHandles.get(commit.groupId, async () => {
      const handle = this.newGroupHandle(commit.groupId);
      await handle.connect();
      return handle;
    });
    const transaction = await this.producer.transaction();
    try {
      if (records.length > 0) await transaction.sendBatch({ topicMessages: byTopic(records) });
      if (consumer) await transaction.sendOffsets({ consumer, topics: offsetsByTopic(offsets) });
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      throw error;
    }
  }

  async disconnect(): Promise<void> {
    await Promise.all([this.producer.disconnect(), this.groupHandles.closeAll((c) => c.disconnect())]);
  }
}

function offsetsByTopic(offsets: PortOffset[]): KafkaJS.TopicOffsets[] {
  return groupByTopic(offsets, ({ partition, offset }) => ({ partition, offset })).map(([topic, partitions]) => ({ topic, partitions }));
}

function decodeHeaders(headers: Message['headers']): KafkaHeaders {
  const out: KafkaHeaders = {};
  for (const header of headers ?? []) {
    for (const name in header) {
      const value = header[name];
      out[name] = Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
    }
  }
  return out;
}

function toInbound(message: Message): InboundRecord {
  const { key } = message;
  return {
    topic: message.topic,
    partition: message.partition,
    offset: String(message.offset),
    key: key === null || key === undefined ? null : Buffer.isBuffer(key) ? key.toString('utf8') : String(key),
    value: message.value,
    headers: decodeHeaders(message.headers),
    timestamp: message.timestamp ?? 0,
  };
}

/** What the consumer knows about one partition it owns. */
interface OwnedPartition {
  topic: string;
  partition: number;
  /** Offset after the last record handed to the handler: a record below it is never delivered twice. */
  deliveredNext: bigint | null;
  /** The `nextOffset` of the last batch the handler completed (it committed through there). */
  completedNext: bigint | null;
  /** A failed batch, held to be delivered again at `dueAt`; records fetched meanwhile wait behind it. */
  retry?: { records: InboundRecord[]; nextOffset: string; dueAt: number };
  waiting: InboundRecord[];
  /** Paused at the client for a held retry: resumed once the partition has nothing held or waiting. */
  paused: boolean;
  revoked: boolean;
}

interface DueBatch {
  state: OwnedPartition;
  records: InboundRecord[];
  nextOffset: string;
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * Batches per partition over librdkafka's consumer, with cooperative rebalancing (`cooperative-sticky`):
 * a rebalance takes away only the partitions that move, and the others keep flowing.
 *
 * The loop: poll (up to MAX_RECORDS_PER_POLL records, waiting at most `fetchMaxWaitMs` for the first),
 * group by partition, hand each partition's records to the handler as one batch (up to `partitionConcurrency`
 * at once), and wait for them before polling again. librdkafka heartbeats on its own thread, so a long batch
 * does not cost the membership (up to `max.poll.interval.ms`, 5 minutes).
 *
 * - **Revocation** waits for the partition's in-flight batch: `isActive()` turns false at once (the handler
 *   commits nothing more), and the partition is released after the round, so the next owner never overlaps
 *   with a batch of ours that is still committing.
 * - **Retry** (`retryFrom`): the batch's records are held and delivered again after the delay; the partition
 *   is paused meanwhile and anything fetched for it waits behind the held batch. Other partitions go on.
 *   Every assigned partition is resumed on assignment: librdkafka keeps a pause across a move away and back.
 * - **Transaction markers**: a batch's `nextOffset` is the consumer's position, past the markers and
 *   aborted records that follow its records. When the position moves past such entries and no record
 *   follows (an upstream transaction's marker arrived after its records were delivered), the consumer
 *   commits that position itself — nothing lies between, so nothing is skipped — and lag reaches 0.
 */
class LibrdKafkaBatchConsumer implements BatchConsumer {
  private readonly consumer: KafkaConsumer;
  private readonly owned = new Map<string, OwnedPartition>();
  private joined = false;
  private stopping = false;
  private fatal = false;
  private loop?: Promise<void>;
  private readonly fallbackHandle = new ConnectionsByKey<KafkaConsumer>();
  /** Settles when the round in progress (handlers running) is over. */
  private round: Promise<void> = Promise.resolve();

  constructor(private readonly connection: Record<string, string | number | boolean>, private readonly options: BatchConsumerOptions, private readonly logger: Logger, fetchMaxWaitMs: number) {
    this.consumer = new KafkaConsumer({
      ...connection,
      'group.id': options.groupId,
      'partition.assignment.strategy': 'cooperative-sticky',
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      'isolation.level': options.readCommitted ? 'read_committed' : 'read_uncommitted',
      'allow.auto.create.topics': false,
      // A crashed member's partitions move after this long; short enough for quick failover, long enough for a GC pause.
      'session.timeout.ms': 10_000,
      'heartbeat.interval.ms': 3_000,
      'fetch.wait.max.ms': fetchMaxWaitMs,
      // Prefetch bound (librdkafka's default is 64 MB per consumer): keeps a consumer's memory small.
      'queued.max.messages.kbytes': 16_384,
      'rebalance_cb': (error: LibrdKafkaError, assignment: TopicPartition[]) => this.onRebalance(error, assignment),
    }, { 'auto.offset.reset': options.fromBeginning ? 'earliest' : 'latest' });
    this.consumer.setDefaultConsumeTimeout(fetchMaxWaitMs);
    this.consumer.setDefaultIsTimeoutOnlyForFirstMessage(true);
    this.consumer.on('event.log', (log: { severity: number; fac: string; message: string }) => {
      this.logger[isTransientKafkaMessage(log.message) ? 'debug' : 'warn'](`kafka client: ${log.message}`, { groupId: options.groupId, facility: log.fac });
    });
    this.consumer.on('event.error', (error: LibrdKafkaError) => this.onError(error));
  }

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.consumer.connect({ timeout: CONNECT_TIMEOUT_MS }, (error) => {
        if (error) return reject(error);
        this.consumer.subscribe(this.options.topics);
        resolve();
      });
    });
  }

  async run(handler: BatchHandler): Promise<void> {
    this.loop ??= this.consumeLoop(handler);
  }

  async commit(offsets: PortOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    const toppars = offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset: Number(offset) }));
    await new Promise<void>((resolve, reject) => this.consumer.commitCb(toppars, (error) => (error ? reject(error) : resolve())));
  }

  isReady(): boolean {
    return this.joined && !this.stopping && !this.fatal && this.consumer.isConnected();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop?.catch(() => undefined);
    // Leaving the group revokes everything (onRebalance releases at once: no round is running any more).
    await new Promise<void>((resolve) => this.consumer.disconnect(() => resolve()));
    await this.fallbackHandle.closeAll((c) => new Promise<void>((resolve) => c.disconnect(() => resolve())));
  }

  private onError(error: LibrdKafkaError): void {
    if (error.isFatal && !this.stopping) {
      // The client gave up for good: a process that can never consume again must not look alive. Exit and
      // let the orchestrator (or npm start) restart it; committed work is safe by construction.
      this.fatal = true;
      this.logger.error('consumer failed for good; exiting so the process is restarted', { groupId: this.options.groupId, error: error.message });
      setTimeout(() => process.exit(1), 100).unref();
      return;
    }
    this.logger[isTransientKafkaMessage(error.message) ? 'debug' : 'warn']('kafka consumer error (the client retries)', { groupId: this.options.groupId, error: error.message, code: error.code });
  }

  private onRebalance(error: LibrdKafkaError, assignment: TopicPartition[]): void {
    const partitions = assignment.map(({ topic, partition }) => ({ topic, partition }));
    const cooperative = this.consumer.rebalanceProtocol() === 'COOPERATIVE';
    try {
      if (error.code === ERR_ASSIGN_PARTITIONS) {
        void this.assignFromCommitted(partitions, cooperative);
      } else if (error.code === ERR_REVOKE_PARTITIONS) {
        const lost = this.consumer.assignmentLost();
        // Revoked partitions stop at once (isActive() is false); they are released once the round ends.
        for (const { topic, partition } of partitions) {
          const state = this.owned.get(key(topic, partition));
          if (state) state.revoked = true;
        }
        void this.round.then(() => {
          for (const { topic, partition } of partitions) this.owned.delete(key(topic, partition));
          try {
            if (cooperative) this.consumer.incrementalUnassign(partitions);
            else this.consumer.unassign();
          } catch (unassignError) {
            if (!this.stopping) this.logger.warn('could not release revoked partitions', { groupId: this.options.groupId, error: (unassignError as Error).message });
          }
          const revoked = assignmentsOf(partitions);
          this.logger.info(lost ? 'partitions lost (membership expired)' : 'partitions revoked', { groupId: this.options.groupId, revoked });
          this.options.onAssignment?.([], revoked);
        });
      } else {
        this.logger.warn('rebalance error', { groupId: this.options.groupId, error: error.message, code: error.code });
      }
    } catch (rebalanceError) {
      if (!this.stopping) this.logger.warn('rebalance handling failed', { groupId: this.options.groupId, error: (rebalanceError as Error).message });
    }
  }

  /**
   * Takes the partitions over from where the group committed, read by us (stableCommittedOffsets) rather than
   * by librdkafka on assignment: its own read waits for a pending commit forever, so a hanging one stalled
   * the partition for good. librdkafka waits for this assignment call; the other partitions go on meanwhile.
   */
  private async assignFromCommitted(partitions: TopicPartition[], cooperative: boolean): Promise<void> {
    this.joined = true;
    const added = assignmentsOf(partitions);
    this.logger.info('partitions assigned', { groupId: this.options.groupId, added, assignment: assignmentsOf([...this.assignedPartitions(), ...partitions]) });
    // Told before the read: a transactional stage fences the partitions' previous owners now, which decides a
    // crashed owner's open transaction, so the read below need not wait for that transaction to time out.
    this.options.onAssignment?.(added, []);
    let committed: CommittedOffset[] | undefined;
    while (!committed) {
      try {
        committed = await stableCommittedOffsets(this.consumer, () => this.lastDecidedHandle(), partitions, (hanging) => this.logger.warn(HANGING_COMMIT_WARNING, { groupId: this.options.groupId, partitions: hanging }));
      } catch (error) {
        if (this.stopping) return;
        this.logger[isTransientKafkaMessage((error as Error).message) ? 'debug' : 'warn']('reading committed offsets of assigned partitions failed; trying again', { groupId: this.options.groupId, error: (error as Error).message });
        await sleep(1_000);
      }
    }
    if (this.stopping) return;
    const noCommit = this.options.fromBeginning ? OFFSET_BEGINNING : OFFSET_END;
    const start = committed.map(({ topic, partition, offset }) => ({ topic, partition, offset: offset >= 0 ? offset : noCommit }));
    try {
      if (cooperative) this.consumer.incrementalAssign(start);
      else this.consumer.assign(start);
      // librdkafka keeps a partition's pause across revocation and reassignment: one paused here for a held
      // retry and then moved away comes back paused, while its new state holds nothing that would resume it.
      this.consumer.resume(partitions);
    } catch (assignError) {
      if (!this.stopping) this.logger.warn('could not take assigned partitions', { groupId: this.options.groupId, error: (assignError as Error).message });
      return;
    }
    for (const { topic, partition, offset } of committed) {
      // Where the group stands: markers past it are committed even before any record arrives (lag 0).
      this.owned.set(key(topic, partition), { topic, partition, deliveredNext: null, completedNext: offset >= 0 ? BigInt(offset) : null, waiting: [], paused: false, revoked: false });
    }
  }

  /** A read_uncommitted handle of the group, for the rare fallback of stableCommittedOffsets: opened on first use, closed on stop. */
  private lastDecidedHandle(): Promise<KafkaConsumer> {
    return this.fallbackHandle.get('read_uncommitted', () => connectGroupHandle(this.connection, this.options.groupId, 'read_uncommitted'));
  }

  private assignedPartitions(): TopicPartition[] {
    return [...this.owned.values()].filter((s) => !s.revoked).map(({ topic, partition }) => ({ topic, partition }));
  }

  private poll(): Promise<Message[]> {
    return new Promise((resolve, reject) => this.consumer.consume(MAX_RECORDS_PER_POLL, (error, messages) => (error ? reject(error) : resolve(messages ?? []))));
  }

  private async consumeLoop(handler: BatchHandler): Promise<void> {
    while (!this.stopping) {
      let messages: Message[];
      try {
        messages = await this.poll();
      } catch (error) {
        if (this.stopping) break;
        this.logger[isTransientKafkaMessage((error as Error).message) ? 'debug' : 'warn']('kafka poll failed; polling again', { groupId: this.options.groupId, error: (error as Error).message });
        await sleep(200);
        continue;
      }
      if (this.stopping) break; // stop() fetches nothing more; what was just fetched is read again by the next owner
      const due = this.dueBatches(messages);
      if (due.length > 0) {
        const round = this.dispatch(due, handler);
        this.round = round;
        await round;
      }
      if (!this.stopping) await this.commitMarkersPastCompleted(due);
    }
  }

  /** This round's batches: held retries that are due, then new records (behind any held batch). */
  private dueBatches(messages: Message[]): DueBatch[] {
    const fresh = new Map<OwnedPartition, InboundRecord[]>();
    for (const message of messages) {
      const state = this.owned.get(key(message.topic, message.partition));
      if (!state || state.revoked) continue; // no longer ours: its next owner reads it from the committed offset
      if (state.deliveredNext !== null && BigInt(message.offset) < state.deliveredNext) continue; // delivered already
      const records = fresh.get(state);
      if (records) records.push(toInbound(message));
      else fresh.set(state, [toInbound(message)]);
    }
    const due: DueBatch[] = [];
    const now = Date.now();
    for (const state of this.owned.values()) {
      if (state.revoked) continue;
      const records = fresh.get(state);
      if (records) state.waiting.push(...records);
      if (state.retry) {
        if (state.retry.dueAt <= now) {
          due.push({ state, records: state.retry.records, nextOffset: state.retry.nextOffset });
          state.retry = undefined;
        }
        continue;
      }
      if (state.waiting.length === 0) continue;
      const batch = state.waiting;
      state.waiting = [];
      const last = BigInt(batch[batch.length - 1].offset);
      state.deliveredNext = last + 1n;
      due.push({ state, records: batch, nextOffset: String(this.positionAfter(state, last)) });
    }
    return due;
  }

  /** The offset after `last`: the consumer's position when it is further (markers, aborted records skipped). */
  private positionAfter(state: OwnedPartition, last: bigint): bigint {
    const position = this.position(state);
    return position !== null && position > last ? position : last + 1n;
  }

  private position(state: OwnedPartition): bigint | null {
    try {
      const [entry] = this.consumer.position([{ topic: state.topic, partition: state.partition }]);
      return entry && entry.offset !== OFFSET_INVALID && entry.offset >= 0 ? BigInt(entry.offset) : null;
    } catch {
      return null;
    }
  }

  private async dispatch(due: DueBatch[], handler: BatchHandler): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < due.length) {
        const batch = due[next++];
        await this.deliver(batch, handler);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.partitionConcurrency, due.length) }, worker));
  }

  private async deliver({ state, records, nextOffset }: DueBatch, handler: BatchHandler): Promise<void> {
    const partition = { topic: state.topic, partition: state.partition };
    let retried = false;
    try {
      await handler({ topic: state.topic, partition: state.partition, records, nextOffset }, {
        heartbeat: async () => undefined, // librdkafka heartbeats on its own thread
        isActive: () => !this.stopping && !state.revoked && this.owned.get(key(state.topic, state.partition)) === state,
        retryFrom: (offset, delayMs) => {
          retried = true;
          const from = BigInt(offset);
          this.hold(state, records.filter((r) => BigInt(r.offset) >= from), nextOffset, delayMs);
        },
      });
    } catch (error) {
      // Handlers map their own failures to retryFrom; an escaped error is a bug, but the records must not be lost.
      this.logger.error('batch handler threw; delivering the batch again in 1 s', { ...partition, error: (error as Error).message });
      retried = true;
      this.hold(state, records, nextOffset, 1_000);
    }
    if (retried) return;
    if (!state.revoked && !this.stopping) state.completedNext = BigInt(nextOffset);
    if (state.paused && !state.retry && state.waiting.length === 0) {
      state.paused = false;
      try {
        this.consumer.resume([partition]);
      } catch {
        // not assigned any more: nothing to resume
      }
    }
  }

  /** Holds a failed batch for delivery after `delayMs`; the partition fetches nothing more meanwhile (what was fetched waits behind). */
  private hold(state: OwnedPartition, records: InboundRecord[], nextOffset: string, delayMs: number): void {
    state.retry = { records, nextOffset, dueAt: Date.now() + delayMs };
    if (!state.paused) this.consumer.pause([{ topic: state.topic, partition: state.partition }]);
    state.paused = true;
  }

  /**
   * Partitions with no batch this round whose position moved past their last completed batch: only
   * transaction markers or aborted records lie between (every record before the position was delivered),
   * so committing the position skips nothing.
   */
  private async commitMarkersPastCompleted(delivered: DueBatch[]): Promise<void> {
    const busy = new Set(delivered.map((d) => d.state));
    const commits: Array<{ state: OwnedPartition; position: bigint }> = [];
    for (const state of this.owned.values()) {
      if (state.revoked || state.retry || state.waiting.length > 0 || busy.has(state)) continue;
      if (state.completedNext === null) continue;
      const position = this.position(state);
      if (position === null || position <= state.completedNext) continue;
      if (state.deliveredNext !== null && position < state.deliveredNext) continue;
      commits.push({ state, position });
    }
    if (commits.length === 0) return;
    const toppars = commits.map(({ state, position }) => ({ topic: state.topic, partition: state.partition, offset: Number(position) }));
    await new Promise<void>((resolve) => this.consumer.commitCb(toppars, (error) => {
      if (error) this.logger.debug('commit past transaction markers failed; retried on the next idle poll', { groupId: this.options.groupId, error: error.message });
      else for (const { state, position } of commits) if (state.completedNext !== null && position > state.completedNext) state.completedNext = position;
      resolve();
    }));
  }
}

function assignmentsOf(partitions: TopicPartition[]): Assignment[] {
  return groupByTopic(partitions, (p) => p.partition).map(([topic, list]) => ({ topic, partitions: list.sort((a, b) => a - b) }));
}

class LibrdKafkaAdmin implements KafkaAdminPort {
  /** Connected, never-subscribed consumer handles per group and isolation level (see groupHandle). */
  private readonly groupHandles = new ConnectionsByKey<KafkaConsumer>();

  constructor(private readonly admin: KafkaJS.Admin, private readonly connection: Record<string, string | number | boolean>, private readonly logger: Logger) {}

  async ensureTopics(topics: TopicSpec[]): Promise<string[]> {
    const existing = new Set(await this.admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length === 0) return [];
    await this.admin.createTopics({
      timeout: 30_000,
      topics: missing.map((t) => ({
        topic: t.topic, numPartitions: t.partitions, replicationFactor: t.replicationFactor,
        configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
    await this.waitForLeaders(missing.map((t) => t.topic));
    return missing.map((t) => t.topic);
  }

  /** Created topics are usable once every partition has a leader (the metadata says so); bounded at 30 s. */
  private async waitForLeaders(topics: string[]): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const metadata = await this.admin.fetchTopicMetadata({ topics }).catch(() => []);
      const ready = metadata.length === topics.length && metadata.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
      if (ready) return;
      if (Date.now() > deadline) throw new Error(`topics created but without a leader after 30 s: ${topics.join(', ')} (is the broker healthy?)`);
      await sleep(100);
    }
  }

  /** Lag against the decided offsets (read_uncommitted: a commit still pending in a transaction does not count yet). */
  async consumerLag(groupId: string, topic: string): Promise<{ partition: number; lag: number }[]> {
    const handle = await this.groupHandle(groupId, 'read_uncommitted');
    const metadata = await new Promise<Metadata>((resolve, reject) => handle.getMetadata({ topic, timeout: 10_000 }, (error, data) => (error ? reject(error) : resolve(data))));
    const partitions = metadata.topics.find((t) => t.name === topic)?.partitions.map((p) => p.id) ?? [];
    if (partitions.length === 0) throw new Error(`topic ${topic} not found`);
    const [committed, ends] = await Promise.all([
      committedOffsets(handle, partitions.map((partition) => ({ topic, partition }))),
      Promise.all(partitions.map((partition) => new Promise<{ partition: number; low: number; high: number }>((resolve, reject) =>
        handle.queryWatermarkOffsets(topic, partition, 10_000, (error, offsets) => (error ? reject(error) : resolve({ partition, low: offsets.lowOffset, high: offsets.highOffset })))))),
    ]);
    const committedByPartition = new Map(committed.map((c) => [c.partition, c.offset]));
    return ends.map(({ partition, low, high }) => {
      const done = committedByPartition.get(partition) ?? -1;
      return { partition, lag: Math.max(0, high - (done < 0 ? low : done)) };
    });
  }

  /** A stable read, bounded (stableCommittedOffsets). */
  async committedOffset(groupId: string, topic: string, partition: number): Promise<string | null> {
    const [entry] = await stableCommittedOffsets(await this.groupHandle(groupId, 'read_committed'), () => this.groupHandle(groupId, 'read_uncommitted'), [{ topic, partition }],
      (hanging) => this.logger.warn(HANGING_COMMIT_WARNING, { groupId, partitions: hanging }));
    return entry === undefined || entry.offset < 0 ? null : String(entry.offset);
  }

  async logStartOffset(topic: string, partition: number): Promise<string> {
    const handle = await this.groupHandle('streamguard-watermarks', 'read_uncommitted'); // reads no group data
    return new Promise((resolve, reject) => handle.queryWatermarkOffsets(topic, partition, 10_000, (error, offsets) => (error ? reject(error) : resolve(String(offsets.lowOffset)))));
  }

  async partitionCount(topic: string): Promise<number> {
    const [metadata] = await this.admin.fetchTopicMetadata({ topics: [topic] });
    if (!metadata || metadata.partitions.length === 0) throw new Error(`topic ${topic} not found (create it with \`npm run admin -- create-topics\`)`);
    return metadata.partitions.length;
  }

  async latestValue(topic: string, partition: number, key: string): Promise<Buffer | null> {
    // A reader of its own, not in any group (the id is required but nothing is committed under it).
    const reader = await connectGroupHandle(this.connection, `streamguard-latest-value-${process.pid}-${Date.now()}`, 'read_committed');
    try {
      const { lowOffset, highOffset } = await new Promise<{ lowOffset: number; highOffset: number }>((resolve, reject) =>
        reader.queryWatermarkOffsets(topic, partition, 10_000, (error, offsets) => (error ? reject(error) : resolve(offsets))));
      if (highOffset <= lowOffset) return null;
      reader.assign([{ topic, partition, offset: OFFSET_BEGINNING }]);
      const wanted = Buffer.from(key, 'utf8');
      let latest: Buffer | null = null;
      // Up to the end as of now. read_committed stops before a transaction still open; that one ends within
      // our transaction timeout (the broker aborts it), so the read is bounded like a stable offset read.
      const deadline = Date.now() + PENDING_COMMIT_BOUND_MS;
      for (;;) {
        const messages = await new Promise<Message[]>((resolve, reject) => reader.consume(1_000, (error, batch) => (error ? reject(error) : resolve(batch ?? []))));
        for (const message of messages) {
          if (message.key && Buffer.compare(Buffer.isBuffer(message.key) ? message.key : Buffer.from(String(message.key)), wanted) === 0) latest = message.value ?? null;
        }
        const [position] = reader.position([{ topic, partition }]);
        if (position && position.offset !== OFFSET_INVALID && position.offset >= highOffset) return latest;
        if (Date.now() > deadline) throw new Error(`reading ${topic}[${partition}] to offset ${highOffset} did not finish within ${PENDING_COMMIT_BOUND_MS / 1000} s (a transaction left open on it?)`);
      }
    } finally {
      await new Promise<void>((resolve) => reader.disconnect(() => resolve()));
    }
  }

  /**
   * Group reads go through a consumer handle of the group (connected, never subscribed), not through the
   * admin API: librdkafka 2.15.1's admin coordinator requests abort the process (assertion in
   * rd_kafka_admin_coord_response_parse) when one is in flight while the client drops a broker
   * connection, which the fault suite's broker restart provoked in the services' lag polling.
   */
  private groupHandle(groupId: string, isolation: Isolation): Promise<KafkaConsumer> {
    return this.groupHandles.get(`${isolation}\u0000${groupId}`, () => connectGroupHandle(this.connection, groupId, isolation));
  }

  async disconnect(): Promise<void> {
    await this.groupHandles.closeAll((c) => new Promise<void>((resolve) => c.disconnect(() => resolve())));
    await this.admin.disconnect();
  }
}

/** Coordinator errors that last while a broker starts or moves coordinators (NOT_COORDINATOR, …). */
const COORDINATOR_SETTLING = new Set([14, 15, 16]);

type Isolation = 'read_committed' | 'read_uncommitted';

/** A consumer handle of the group, connected and never subscribed: it reads the group's offsets. */
function connectGroupHandle(connection: Record<string, string | number | boolean>, groupId: string, isolation: Isolation): Promise<KafkaConsumer> {
  const consumer = new KafkaConsumer({ ...connection, 'group.id': groupId, 'isolation.level': isolation, 'enable.auto.commit': false }, {});
  consumer.on('event.error', () => undefined); // reported by the caller's failed request
  return new Promise<KafkaConsumer>((resolve, reject) => consumer.connect({ timeout: CONNECT_TIMEOUT_MS }, (error) => (error ? reject(error) : resolve(consumer))));
}

interface CommittedOffset {
  topic: string;
  partition: number;
  /** -1: nothing committed. */
  offset: number;
}

const HANGING_COMMIT_WARNING = `a transactional offset commit stayed pending longer than any transaction of ours can (${PENDING_COMMIT_BOUND_MS / 1000} s): `
  + 'a hanging transaction left by the broker; going on from the last decided offsets (check with kafka-transactions.sh find-hanging)';

/**
 * The group's committed offsets as a stable read (KIP-447 `require_stable`): a read_committed handle makes
 * librdkafka ask for stable offsets, and while a transaction that commits offsets for a partition is still
 * open (UNSTABLE_OFFSET_COMMIT) it asks again, so the new owner of a partition sees what its fenced previous
 * owner's last transaction decided.
 *
 * Bounded by PENDING_COMMIT_BOUND_MS. No transaction of ours stays open that long (the broker aborts it), so
 * a commit still pending after it belongs to no live transaction and will never be decided: a *hanging*
 * transactional offset commit. Kafka 4.3 left one behind in the fault suite when the broker was stopped
 * cleanly in the middle of a transaction (the record is in `__consumer_offsets`, no marker ever follows, the
 * transaction coordinator shows the id as Empty); a stable read then waits forever and the partition
 * stalls for good. Past the bound, the offsets are read from `lastDecided` (read_uncommitted: pending commits
 * ignored) and `onHanging` reports it.
 */
async function stableCommittedOffsets(
  stable: KafkaConsumer, lastDecided: () => Promise<KafkaConsumer>, partitions: TopicPartition[], onHanging: (partitions: CommittedOffset[]) => void,
): Promise<CommittedOffset[]> {
  try {
    return await committedOffsets(stable, partitions, PENDING_COMMIT_BOUND_MS);
  } catch (error) {
    if ((error as LibrdKafkaError).code !== ERR_TIMED_OUT) throw error;
    const decided = await committedOffsets(await lastDecided(), partitions);
    onHanging(decided);
    return decided;
  }
}

/**
 * The group's committed offsets, asked again for 30 s at most while the coordinator settles. The
 * argument's shape is checked here: a malformed list crashes the native binding.
 */
async function committedOffsets(consumer: KafkaConsumer, partitions: TopicPartition[], timeoutMs = 30_000): Promise<CommittedOffset[]> {
  const toppars = partitions.map(({ topic, partition }) => {
    if (typeof topic !== 'string' || !Number.isInteger(partition) || partition < 0) throw new Error(`invalid topic partition ${topic}[${partition}]`);
    return { topic, partition };
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await new Promise((resolve, reject) => consumer.committed(toppars, timeoutMs, (error, result) => {
        if (error) return reject(error);
        const failed = result.find((r) => r.error);
        if (failed) return reject(failed.error);
        // No `offset` (or a negative one): nothing committed for that partition yet.
        resolve(result.map((r) => ({ topic: r.topic, partition: r.partition, offset: typeof r.offset === 'number' && r.offset >= 0 ? r.offset : -1 })));
      }));
    } catch (error) {
      if (!COORDINATOR_SETTLING.has((error as LibrdKafkaError).code) || Date.now() > deadline) throw error;
      await sleep(100);
    }
  }
}
