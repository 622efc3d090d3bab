import { CompressionTypes, Kafka, logLevel, type Admin, type Consumer, type Producer } from 'kafkajs';
import type { Logger } from '../logger';
import { DependencyUnavailableError } from '../redis';
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
export async function ensureTopic(kafka: Kafka, brokers: string[], topic: string, partitions: number, timeoutMs = 15_000): Promise<void> {
  const admin = kafka.admin({ retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1000 } });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([
      (async () => {
        await admin.connect();
        const existing = await admin.listTopics();
        if (!existing.includes(topic)) {
          await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
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
    clearTimeout(timer);
    await admin.disconnect().catch(() => undefined);
  }
}

interface Pending {
  request: InferenceRequest;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Produces inference requests keyed by tenant and session (per-session order), gzip-compressed,
 * in micro-batches: asks arriving within `lingerMs` of each other go out in one produce request,
 * which is what lets a burst of asks ride through at a fraction of the round trips.
 */
export class KafkaInferenceQueue implements InferenceQueue {
  private readonly producer: Producer;
  private batch: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;
  private sending: Promise<void> = Promise.resolve();
  /** For /health: false after the producer lost its brokers, until it reconnects. */
  connected = false;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
    private readonly lingerMs = 20,
    private readonly maxBatch = 500,
    /** An ask waits at most this long for Kafka before it is refused (SERVICE_UNAVAILABLE). */
    private readonly sendTimeoutMs = 5_000,
  ) {
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    this.producer.on(this.producer.events.CONNECT, () => (this.connected = true));
    this.producer.on(this.producer.events.DISCONNECT, () => (this.connected = false));
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  /** Resolves once the broker acknowledged the request (acks from all in-sync replicas). */
  enqueue(request: InferenceRequest): Promise<void> {
    if (!this.connected) return Promise.reject(new Error('the Kafka producer is not connected'));
    return new Promise((resolve, reject) => {
      this.batch.push({ request, resolve, reject });
      if (this.batch.length >= this.maxBatch) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.lingerMs);
    });
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.batch;
    this.batch = [];
    if (batch.length === 0) return;
    this.sending = this.sending.then(async () => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const deadline = new Promise<never>((_, fail) => {
          timer = setTimeout(() => fail(new Error(`Kafka did not acknowledge within ${this.sendTimeoutMs} ms`)), this.sendTimeoutMs);
        });
        const sent = this.producer.send({
          topic: this.topic,
          compression: CompressionTypes.GZIP,
          acks: -1,
          messages: batch.map(({ request }) => ({
            key: orderingKey(request),
            value: JSON.stringify(request),
            headers: { tenant: request.tenantId },
          })),
        });
        sent.catch(() => undefined);
        await Promise.race([sent, deadline]);
        batch.forEach((p) => p.resolve());
      } catch (error) {
        batch.forEach((p) => p.reject(error));
      } finally {
        clearTimeout(timer);
      }
    });
  }

  async close(): Promise<void> {
    this.flush();
    await this.sending;
    await this.producer.disconnect();
  }
}

/**
 * A consumer-group member. Offsets are committed only after the handler finished (the answer is
 * written), so a crash or rebalance redelivers instead of losing; the handler de-duplicates.
 */
export class KafkaInferenceConsumer implements InferenceConsumer {
  private readonly consumer: Consumer;
  private readonly admin: Admin;
  /** For /health: true while the consumer is fetching. */
  running = false;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
    private readonly groupId: string,
    private readonly logger: Logger,
    private readonly partitionsConsumedConcurrently = 3,
  ) {
    this.consumer = kafka.consumer({ groupId, sessionTimeout: 15_000, heartbeatInterval: 1_000 });
    this.admin = kafka.admin();
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => (this.running = true));
    this.consumer.on(this.consumer.events.STOP, () => (this.running = false));
    this.consumer.on(this.consumer.events.CRASH, () => (this.running = false));
  }

  async start(handler: InferenceHandler): Promise<void> {
    await this.admin.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: this.partitionsConsumedConcurrently,
      eachMessage: async ({ topic, partition, message, heartbeat }) => {
        const request = parseInferenceRequest(message.value?.toString('utf8') ?? '');
        if (request && request.tenantId === message.headers?.['tenant']?.toString()) {
          // kafkajs heartbeats only between messages: a long answer must beat, or the group evicts us.
          await handler(request, { heartbeat });
        } else {
          // A message we cannot read would block its partition forever: log it and move on.
          this.logger.error({ topic, partition, offset: message.offset }, 'skipping unreadable inference request');
        }
        await this.consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
      },
    });
  }

  /** Waits for the messages in hand to finish, commits, and leaves the group. */
  async stop(): Promise<void> {
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
