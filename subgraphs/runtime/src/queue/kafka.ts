import { CompressionTypes, Kafka, logLevel, type Admin, type Consumer, type Producer } from 'kafkajs';
import type { Logger } from '../logger';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoalescingWriter } from '../coalescing-writer';
import {
  ATTR,
  contextWith,
  extractTraceContext,
  failSpan,
  injectTraceContext,
  spanContextOf,
  SpanKind,
  tracer,
  withActiveSpan,
  type Span,
} from '../tracing';
import { DependencyUnavailableError } from '../redis';
import { FairScheduler, type ScheduledItem } from './fair-scheduler';
import {
  orderingKey,
  parseInferenceRequest,
  type InferenceConsumer,
  type InferenceHandler,
  type InferenceQueue,
  type InferenceRequest,
} from './types';

const toPinoLevel: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

export function createKafka(brokers: string[], clientId: string, logger: Logger): Kafka {
  const kafkaLog = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId,
    brokers,
    connectionTimeout: 3000,
    retry: { initialRetryTime: 200, maxRetryTime: 5000, retries: 8 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }) => {
        const { message, ...rest } = log;
        kafkaLog[toPinoLevel[level] ?? 'info'](rest, message);
      },
  });
}

/**
 * Checks the brokers answer and creates the topic when missing, within `timeoutMs`, so a service
 * started without Kafka fails at once with a message saying how to provide it.
 */
/** How the request topic is replicated when this service creates it (unset: the brokers' defaults). */
export interface TopicReplication {
  replicationFactor?: number | undefined;
  minInsyncReplicas?: number | undefined;
}

export async function ensureTopic(
  kafka: Kafka,
  brokers: string[],
  topic: string,
  partitions: number,
  replication: TopicReplication = {},
  timeoutMs = 15_000,
): Promise<void> {
  const admin = kafka.admin({ retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1000 } });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  let settled = false;
  try {
    await Promise.race([
      (async () => {
        await admin.connect();
        // Several brokers: a topic another service has just created may not be known to every broker yet
        // ("This server does not host this topic-partition"): retried until it is, within the deadline.
        for (let attempt = 0; ; attempt++) {
          try {
            await createUnlessExists();
            return;
          } catch (error) {
            if (settled || attempt >= 20 || !topicNotYetEverywhere(error)) throw error;
            await new Promise((r) => setTimeout(r, 300));
          }
        }
      })(),
      deadline,
    ]);
  } catch (error) {
    throw new DependencyUnavailableError(
      `Cannot reach Kafka at ${brokers.join(',')} (${(error as Error).message}). ` +
        'Start a broker (`bash ops/kafka/kafka.sh start`) or set KAFKA_BROKERS.',
    );
  } finally {
    settled = true;
    clearTimeout(timer);
    await admin.disconnect().catch(() => undefined);
  }

  async function createUnlessExists(): Promise<void> {
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) {
      await admin.createTopics({
        topics: [
          {
            topic,
            numPartitions: partitions,
            ...(replication.replicationFactor ? { replicationFactor: replication.replicationFactor } : {}),
            ...(replication.minInsyncReplicas
              ? { configEntries: [{ name: 'min.insync.replicas', value: String(replication.minInsyncReplicas) }] }
              : {}),
          },
        ],
        waitForLeaders: true,
      });
    }
  }
}

/** Runs `attempt` again while the brokers do not all know the topic yet, for up to `timeoutMs`. */
export async function retryWhileTopicUnknown<T>(attempt: () => Promise<T>, timeoutMs = 15_000, pauseMs = 300): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (!topicNotYetEverywhere(error) || Date.now() + pauseMs > deadline) throw error;
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  }
}

/** kafkajs' UNKNOWN_TOPIC_OR_PARTITION, also when its own retries gave up on it (then it is the cause). */
export function topicNotYetEverywhere(error: unknown): boolean {
  for (let e = error as { type?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.type === 'UNKNOWN_TOPIC_OR_PARTITION') return true;
  }
  return false;
}

interface Pending {
  request: InferenceRequest;
  resolve: () => void;
  reject: (error: unknown) => void;
  /** The send span of this message (messaging semantic conventions); its context travels in the headers. */
  span: Span;
  headers: Record<string, string>;
}

const TRACER = '@beedesk/runtime/kafka';

/**
 * Produce errors after which kafkajs' idempotent producer never sends again: its producer id or
 * sequence numbers no longer match the broker's (seen after a broker restart: every send failed with
 * "The broker received an out of order sequence number" until the process restarted). Only a new
 * producer, with a new producer id and sequences from 0, sends again.
 */
const STUCK_PRODUCER_ERRORS = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH']);

function isStuckProducerError(error: unknown): boolean {
  const type = (error as { type?: unknown } | null)?.type;
  if (typeof type === 'string' && STUCK_PRODUCER_ERRORS.has(type)) return true;
  const cause = (error as { cause?: unknown } | null)?.cause;
  return cause !== undefined && cause !== error && isStuckProducerError(cause);
}

export interface ProducerRecoveryOptions {
  /** Sends failed in a row (timeouts included) after which the producer is replaced. */
  maxConsecutiveFailures: number;
  /** Wait between attempts to connect a replacement while the brokers do not answer. */
  reconnectBackoffMs: number;
  /** Longest wait for the old producer to disconnect before it is abandoned. */
  disconnectTimeoutMs: number;
}

export interface KafkaQueueOptions {
  /**
   * How long the first ask of an idle producer waits for others to join its produce request. 0 (the
   * default): it goes at once, and asks arriving while a request is in flight go together in the next.
   */
  lingerMs?: number;
  maxBatch?: number;
  /** An ask waits at most this long for Kafka before its send counts as failed (the outbox re-sends it). */
  sendTimeoutMs?: number;
  logger?: Logger;
  recovery?: Partial<ProducerRecoveryOptions>;
}

export type ProducerState = 'ok' | 'disconnected' | 'replacing';

/**
 * Produces inference requests keyed by tenant and session (per-session order), gzip-compressed,
 * in micro-batches: one produce request is in flight at a time (the idempotent producer allows no
 * more), and the asks that arrive meanwhile go out together in the next. A burst rides through at
 * a fraction of the round trips while a lone ask pays no waiting time (a fixed linger made every
 * ask wait 20 ms, most of a quiet ask's time in the answer service).
 *
 * A producer that cannot send (an error that leaves kafkajs' idempotent producer stuck, or
 * `maxConsecutiveFailures` failed sends) is replaced by a new one without a process restart; while
 * that happens `state` is not `ok` (the answer service reports not ready) and asks are refused at
 * once, to be re-sent by the outbox sweeper.
 */
export class KafkaInferenceQueue implements InferenceQueue {
  private producer: Producer;
  private batch: Pending[] = [];
  /** Cancels the scheduled flush, when one is scheduled. */
  private cancelScheduledFlush: (() => void) | null = null;
  private sendInFlight = false;
  private sending: Promise<void> = Promise.resolve();
  private consecutiveFailures = 0;
  private replacing: Promise<void> | null = null;
  private closed = false;
  private readonly recovery: ProducerRecoveryOptions;
  /** False after the producer lost its brokers, until it reconnects. */
  connected = false;
  /** Producers replaced since start (logged with each replacement). */
  replacements = 0;

  private readonly lingerMs: number;
  private readonly maxBatch: number;
  private readonly sendTimeoutMs: number;
  private readonly logger: Logger | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    options: KafkaQueueOptions = {},
  ) {
    this.lingerMs = options.lingerMs ?? 0;
    this.maxBatch = options.maxBatch ?? 500;
    this.sendTimeoutMs = options.sendTimeoutMs ?? 5_000;
    this.logger = options.logger;
    this.recovery = { maxConsecutiveFailures: 3, reconnectBackoffMs: 1_000, disconnectTimeoutMs: 3_000, ...options.recovery };
    this.producer = this.createProducer();
  }

  /** For readiness: `ok` only while the producer is connected and not being replaced. */
  get state(): ProducerState {
    if (this.replacing) return 'replacing';
    return this.connected ? 'ok' : 'disconnected';
  }

  private createProducer(): Producer {
    const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    // Events of a replaced producer must not touch the flag of its successor.
    producer.on(producer.events.CONNECT, () => {
      if (producer === this.producer) this.connected = true;
    });
    producer.on(producer.events.DISCONNECT, () => {
      if (producer === this.producer) this.connected = false;
    });
    return producer;
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  /** Resolves once the broker acknowledged the request (acks from all in-sync replicas). */
  enqueue(request: InferenceRequest): Promise<void> {
    if (this.replacing) return Promise.reject(new Error('the Kafka producer is being replaced after failed sends'));
    if (!this.connected) return Promise.reject(new Error('the Kafka producer is not connected'));
    // One PRODUCER span per message, child of the ask; its context goes into the message headers.
    const span = tracer(TRACER).startSpan(`send ${this.topic}`, {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'send',
        'messaging.destination.name': this.topic,
        [ATTR.tenant]: request.tenantId,
        [ATTR.answerId]: request.answerId,
      },
    });
    const headers = injectTraceContext({ tenant: request.tenantId }, contextWith(span));
    return new Promise((resolve, reject) => {
      this.batch.push({
        request,
        span,
        headers,
        resolve: () => {
          span.end();
          resolve();
        },
        reject: (error) => {
          failSpan(span, error, `send ${this.topic}`, { [ATTR.tenant]: request.tenantId });
          span.end();
          reject(error);
        },
      });
      if (this.batch.length >= this.maxBatch) this.flush();
      else this.scheduleFlush();
    });
  }

  /** A flush after `lingerMs`, or after the current event-loop turn (asks of one turn share a request). */
  private scheduleFlush(): void {
    if (this.cancelScheduledFlush || this.sendInFlight) return; // the send in flight flushes when done
    if (this.lingerMs > 0) {
      const timer = setTimeout(() => this.flush(), this.lingerMs);
      this.cancelScheduledFlush = () => clearTimeout(timer);
    } else {
      const immediate = setImmediate(() => this.flush());
      this.cancelScheduledFlush = () => clearImmediate(immediate);
    }
  }

  /** Sends up to `maxBatch` waiting asks unless a send is in flight; what is left goes when it is done. */
  private flush(): void {
    this.cancelScheduledFlush?.();
    this.cancelScheduledFlush = null;
    if (this.sendInFlight || this.batch.length === 0) return;
    const batch = this.batch.splice(0, this.maxBatch);
    this.sendInFlight = true;
    this.sending = (async () => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const deadline = new Promise<never>((_, fail) => {
          timer = setTimeout(() => fail(new Error(`Kafka did not acknowledge within ${this.sendTimeoutMs} ms`)), this.sendTimeoutMs);
        });
        const sent = this.producer.send({
          topic: this.topic,
          // None: a request is ~1 kB of JSON; gzip cost the answer subgraph and the worker more CPU
          // (zlib on every send and fetch) than the bytes it saved on a loopback or LAN link.
          compression: CompressionTypes.None,
          acks: -1,
          messages: batch.map(({ request, headers }) => ({
            key: orderingKey(request),
            value: JSON.stringify(request),
            headers,
          })),
        });
        sent.catch(() => undefined);
        await Promise.race([sent, deadline]);
        this.consecutiveFailures = 0;
        batch.forEach((p) => p.resolve());
      } catch (error) {
        batch.forEach((p) => p.reject(error));
        this.recordFailure(error);
      } finally {
        clearTimeout(timer);
        this.sendInFlight = false;
      }
      this.flush();
    })();
  }

  private recordFailure(error: unknown): void {
    this.consecutiveFailures += 1;
    const stuck = isStuckProducerError(error);
    if (this.closed || this.replacing || (!stuck && this.consecutiveFailures < this.recovery.maxConsecutiveFailures)) return;
    this.logger?.error(
      { err: error, consecutiveFailures: this.consecutiveFailures, stuck },
      'the Kafka producer cannot send; replacing it with a new one',
    );
    this.replacing = this.replaceProducer().finally(() => (this.replacing = null));
  }

  /** Abandons the current producer and connects a new one, retrying until it connects or we close. */
  private async replaceProducer(): Promise<void> {
    const old = this.producer;
    this.connected = false;
    await withTimeout(old.disconnect(), this.recovery.disconnectTimeoutMs).catch(() => undefined);
    while (!this.closed) {
      const fresh = this.createProducer();
      this.producer = fresh;
      try {
        await fresh.connect();
        this.connected = true;
        this.consecutiveFailures = 0;
        this.replacements += 1;
        this.logger?.warn({ replacements: this.replacements }, 'a new Kafka producer is connected');
        return;
      } catch (error) {
        this.logger?.warn({ err: error }, 'could not connect a new Kafka producer yet; retrying');
        await fresh.disconnect().catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, this.recovery.reconnectBackoffMs));
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.flush();
    while (this.sendInFlight) await this.sending;
    await this.replacing;
    await this.producer.disconnect();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * A consumer-group member. Offsets are committed only after the handler finished (the answer is
 * written), so a crash or rebalance redelivers instead of losing; the handler de-duplicates.
 */

/** Merge for offset commits: runFair adds a partition's offset only above the last one (`committed`), so the added one wins. */
function laterOffsets(waiting: Map<number, bigint>, added: Map<number, bigint>): Map<number, bigint> {
  for (const [partition, offset] of added) waiting.set(partition, offset);
  return waiting;
}

/** fair: the least time between two offset commits of a worker; what finishes meanwhile goes in the next. */
const COMMIT_INTERVAL_MS = 50;

/** fair: how long a tenant counts as active after one of its requests was read (FairSchedulerOptions). */
const CONTENTION_WINDOW_MS = 1000;

/** A message read ahead in fair mode: the request and what its CONSUMER span needs (trace headers). */
interface FairMessage {
  request: InferenceRequest;
  topic: string;
  offset: string;
  headers: Record<string, unknown>;
}

/** How a worker orders the requests it has read: as they arrived (`fifo`), or fairly between tenants. */
export interface ConsumerScheduling {
  mode: 'fifo' | 'fair';
  /** fair: requests of one tenant answered at once on this worker (0: no cap but the concurrency). */
  maxPerTenant?: number;
  /**
   * fair: requests of one tenant answered at once on this worker while another tenant is active (read
   * within the last second, waiting or running); 0: maxPerTenant alone (FairSchedulerOptions).
   */
  maxPerTenantContended?: number;
  /** fair: requests read ahead and waiting, at most (bounded memory; the fetch waits beyond it). */
  maxBuffered?: number;
  /** fair: a tenant's share per round (e.g. by plan); 1 by default. */
  weightOf?: (tenantId: string) => number;
}

export class KafkaInferenceConsumer implements InferenceConsumer {
  private readonly consumer: Consumer;
  private readonly admin: Admin;
  /** For /health: true while the consumer is fetching. */
  running = false;
  private readonly scheduling: ConsumerScheduling;
  private readonly scheduler: FairScheduler<FairMessage | null>;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly committed = new Map<number, bigint>();
  /**
   * fair: offsets finished while a commit is in flight, or in the pause after it, go together in the
   * next one, the latest per partition (one commit per answer cost the worker and the broker a request each).
   */
  private readonly commits = new CoalescingWriter<Map<number, bigint>>(laterOffsets, (offsets) => this.commitOffsets(offsets));
  private assigned = new Set<number>();
  private stopping = false;
  /** fair: OffsetCommit requests sent so far (what finishes in a commit's pause goes in the next). */
  offsetCommitsSent = 0;
  /** Aborted by stop(): ends the pause after a commit at once. */
  private readonly stopped = new AbortController();
  private spaceWaiters: (() => void)[] = [];
  /** A pump due when the contention window lapses (requests held back only by the contended bound). */
  private contentionTimer: NodeJS.Timeout | null = null;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
    private readonly groupId: string,
    private readonly logger: Logger,
    private readonly partitionsConsumedConcurrently = 3,
    scheduling: ConsumerScheduling = { mode: 'fifo' },
  ) {
    this.scheduling = scheduling;
    this.scheduler = new FairScheduler({
      concurrency: partitionsConsumedConcurrently,
      maxPerTenant: scheduling.maxPerTenant ?? 0,
      maxPerTenantContended: scheduling.maxPerTenantContended ?? 0,
      contentionWindowMs: CONTENTION_WINDOW_MS,
      ...(scheduling.weightOf ? { weightOf: scheduling.weightOf } : {}),
    });
    this.consumer = kafka.consumer({ groupId, sessionTimeout: 15_000, heartbeatInterval: 1_000 });
    this.admin = kafka.admin();
    this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => {
      this.running = true;
      // A new generation reads again from the committed offsets: what waits here is dropped, not lost.
      const dropped = this.scheduler.dropWaiting();
      this.assigned = new Set(event.payload.memberAssignment[this.topic] ?? []);
      if (dropped > 0) this.logger.info({ dropped }, 'rebalanced: waiting inference requests dropped, to be read again');
      this.wakeFetch();
    });
    this.consumer.on(this.consumer.events.STOP, () => (this.running = false));
    this.consumer.on(this.consumer.events.CRASH, () => (this.running = false));
  }

  async start(handler: InferenceHandler): Promise<void> {
    await this.admin.connect();
    await this.consumer.connect();
    // A topic just created on several brokers reaches every broker's metadata a moment later; kafkajs
    // gives up on "This server does not host this topic-partition" before it does (seen at start-up
    // of three workers against three brokers).
    await retryWhileTopicUnknown(() => this.consumer.subscribe({ topic: this.topic, fromBeginning: true }));
    if (this.scheduling.mode === 'fair') return this.startFair(handler);
    await this.consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: this.partitionsConsumedConcurrently,
      eachMessage: async ({ topic, partition, message, heartbeat }) => {
        const request = this.readable(topic, partition, message);
        // kafkajs heartbeats only between messages: a long answer must beat, or the group evicts us.
        if (request)
          await this.process(topic, partition, message.offset, message.headers ?? {}, request, () => handler(request, { heartbeat }));
        await this.consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
      },
    });
  }

  /** The request in a message, or null (logged) for one we cannot read: it must not block its partition. */
  private readable(
    topic: string,
    partition: number,
    message: { value: Buffer | null; offset: string; headers?: Record<string, unknown> },
  ): InferenceRequest | null {
    const request = parseInferenceRequest(message.value?.toString('utf8') ?? '');
    if (request && request.tenantId === String(message.headers?.['tenant'] ?? '')) return request;
    this.logger.error({ topic, partition, offset: message.offset }, 'skipping unreadable inference request');
    return null;
  }

  /**
   * Fair mode: every partition's messages go into the FairScheduler as they are fetched (read ahead up to
   * maxBuffered, the fetch position moves on), requests start in deficit-round-robin order between
   * tenants, and each partition's offset is committed only up to its contiguous prefix of finished
   * requests. kafkajs heartbeats between fetches, which go on while answers run.
   */
  private async startFair(handler: InferenceHandler): Promise<void> {
    const maxBuffered = this.scheduling.maxBuffered ?? 2000;
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        for (const message of batch.messages) {
          while (this.scheduler.size >= maxBuffered && isRunning() && !isStale() && !this.stopping) {
            await new Promise<void>((resolve) => {
              this.spaceWaiters.push(resolve);
              setTimeout(resolve, 1000).unref();
            });
            await heartbeat();
          }
          if (!isRunning() || isStale() || this.stopping) return;
          this.scheduler.add({
            tenantId: String(message.headers?.['tenant'] ?? ''),
            orderingKey: message.key?.toString('utf8') ?? `${batch.partition}/${message.offset}`,
            partition: batch.partition,
            offset: BigInt(message.offset),
            value: this.fairMessage(batch.topic, batch.partition, message),
          });
          resolveOffset(message.offset);
          this.pump(handler);
        }
        await heartbeat();
      },
    });
  }

  private pump(handler: InferenceHandler): void {
    for (let item = this.stopping ? null : this.scheduler.next(); item; item = this.stopping ? null : this.scheduler.next()) {
      const run = this.runFair(handler, item).finally(() => {
        this.inFlight.delete(run);
        this.wakeFetch();
        this.pump(handler);
      });
      this.inFlight.add(run);
    }
    // Nothing else may prompt the next pump: no answer of this worker is running long enough to finish
    // after the other tenants fall quiet (an LLM answer can run for seconds).
    if (this.contentionTimer === null && !this.stopping && this.scheduler.heldByContention) {
      this.contentionTimer = setTimeout(() => {
        this.contentionTimer = null;
        this.pump(handler);
      }, CONTENTION_WINDOW_MS);
      this.contentionTimer.unref();
    }
  }

  private fairMessage(
    topic: string,
    partition: number,
    message: { value: Buffer | null; offset: string; headers?: Record<string, unknown> },
  ): FairMessage | null {
    const request = this.readable(topic, partition, message);
    return request && { request, topic, offset: message.offset, headers: message.headers ?? {} };
  }

  private async runFair(handler: InferenceHandler, item: ScheduledItem<FairMessage | null>): Promise<void> {
    try {
      const message = item.value;
      if (message) {
        await this.process(message.topic, item.partition, message.offset, message.headers, message.request, () =>
          handler(message.request, { heartbeat: async () => undefined }),
        );
      }
    } catch (error) {
      // Delivered again after a pause (the handler counts deliveries and gives a request up after 5).
      this.logger.warn({ err: error, partition: item.partition, tenant: item.tenantId }, 'inference request failed, delivering again');
      await new Promise((r) => setTimeout(r, 1000));
      if (!this.stopping) this.scheduler.retry(item);
      return;
    }
    const commit = this.scheduler.done(item);
    const previous = this.committed.get(item.partition) ?? -1n;
    if (commit === null || commit <= previous || !this.assigned.has(item.partition)) return;
    this.committed.set(item.partition, commit);
    this.commits.add(new Map([[item.partition, commit]]));
  }

  /** One OffsetCommit request for what finished while the previous one was in flight (stop() waits for it). */
  private async commitOffsets(offsets: Map<number, bigint>): Promise<void> {
    // A partition lost in a rebalance is read again by its new owner from what was committed before.
    const owned = [...offsets].filter(([partition]) => this.assigned.has(partition));
    if (owned.length === 0) return;
    this.offsetCommitsSent++;
    await this.consumer
      .commitOffsets(owned.map(([partition, offset]) => ({ topic: this.topic, partition, offset: offset.toString() })))
      .catch((error: unknown) =>
        this.logger.warn({ err: error, partitions: owned.map(([partition]) => partition) }, 'offset commit failed (read again later)'),
      );
    // A crash in the pause reads at most this much finished work again; the handler answers each request once.
    await sleep(COMMIT_INTERVAL_MS, undefined, { signal: this.stopped.signal }).catch(() => undefined);
  }

  private wakeFetch(): void {
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * The CONSUMER `process` span of one message (messaging semantic conventions): linked to the
   * producer's context from the message headers and, since one message is processed alone, also its
   * child, so the answer's spans stay in the trace of the `ask` that produced it.
   */
  private async process(
    topic: string,
    partition: number,
    offset: string,
    headers: Record<string, unknown>,
    request: InferenceRequest,
    run: () => Promise<void>,
  ): Promise<void> {
    const producer = extractTraceContext(headers);
    const producerSpan = spanContextOf(producer);
    const name = `process ${topic}`;
    const span = tracer(TRACER).startSpan(
      name,
      {
        kind: SpanKind.CONSUMER,
        links: producerSpan ? [{ context: producerSpan }] : [],
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'process',
          'messaging.operation.name': 'process',
          'messaging.destination.name': topic,
          'messaging.destination.partition.id': String(partition),
          'messaging.kafka.offset': Number(offset),
          'messaging.consumer.group.name': this.groupId,
          [ATTR.tenant]: request.tenantId,
          [ATTR.answerId]: request.answerId,
        },
      },
      producer,
    );
    try {
      await withActiveSpan(span, run, producer);
    } catch (error) {
      failSpan(span, error, name, { [ATTR.tenant]: request.tenantId });
      throw error;
    } finally {
      span.end();
    }
  }

  /** Waits for the messages in hand to finish, commits, and leaves the group. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopped.abort();
    this.wakeFetch();
    if (this.contentionTimer) clearTimeout(this.contentionTimer);
    this.contentionTimer = null;
    if (this.scheduling.mode === 'fair') {
      await this.consumer.stop();
      await Promise.all([...this.inFlight]);
      await this.commits.settled();
    }
    await this.consumer.disconnect();
    await this.admin.disconnect();
  }

  /** High-water mark minus the group's committed offset, per partition. */
  async lagByPartition(): Promise<Record<number, number>> {
    const [latest, committed] = await Promise.all([
      this.admin.fetchTopicOffsets(this.topic),
      this.admin.fetchOffsets({ groupId: this.groupId, topics: [this.topic] }),
    ]);
    const committedByPartition = new Map<number, number>();
    for (const { partitions } of committed) {
      for (const p of partitions) committedByPartition.set(p.partition, Number(p.offset));
    }
    return Object.fromEntries(
      latest.map((p) => {
        const done = Math.max(committedByPartition.get(p.partition) ?? -1, Number(p.low));
        return [p.partition, Math.max(0, Number(p.high) - done)];
      }),
    );
  }
}
