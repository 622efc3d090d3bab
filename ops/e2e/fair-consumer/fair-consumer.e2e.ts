import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { KafkaInferenceConsumer, KafkaInferenceQueue, type InferenceRequest } from '@beedesk/runtime';

// Issue 16 point 5: the fair consumer's contended bound against a real broker. While another tenant is
// active a tenant answers at most INFERENCE_MAX_PER_TENANT_CONTENDED requests at once on a worker; once the
// others have been quiet for the window it gets its slots back even when none of its running answers
// finishes (an LLM answer can run for seconds): the consumer must start them by itself.
const brokers = (process.env.E2E_KAFKA_BROKERS ?? '').split(',').filter(Boolean);
const runId = process.env.E2E_RUN_ID ?? `${process.pid}`;
const topic = `inference.fair-consumer.${runId}`;
const logger = pino({ level: 'silent' });

/** The handler's view: which requests run now, each held until the test releases it. */
class HeldAnswers {
  private readonly held = new Map<string, { tenantId: string; release: () => void }>();
  readonly started: string[] = [];

  readonly handler = (request: InferenceRequest): Promise<void> =>
    new Promise<void>((release) => {
      this.started.push(request.answerId);
      this.held.set(request.answerId, { tenantId: request.tenantId, release });
    }).then(() => {
      this.held.delete(request.answerId);
    });

  running(tenantId: string): string[] {
    return [...this.held].filter(([, h]) => h.tenantId === tenantId).map(([id]) => id);
  }

  release(answerId: string): void {
    this.held.get(answerId)?.release();
  }
}

async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A fresh 3-partition topic with a connected queue, and how to tear both down with the consumer. */
async function topicWithQueue(kafka: Kafka, name: string) {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: name, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const queue = new KafkaInferenceQueue(kafka, name);
  await queue.connect();
  const teardown = async (consumer: KafkaInferenceConsumer | undefined) => {
    await consumer?.stop();
    await queue.close();
    await admin.connect();
    await admin.deleteTopics({ topics: [name] }).catch(() => undefined);
    await admin.disconnect();
  };
  return { queue, teardown };
}

const request = (tenantId: string, n: number): InferenceRequest => ({
  v: 1,
  tenantId,
  sessionId: `${tenantId}-s${n}`,
  userId: `${tenantId}-u${n}`,
  answerId: `${tenantId}-a${n}`,
  question: 'how long does card delivery take?',
  history: [],
  requestId: `${tenantId}-r${n}`,
  enqueuedAt: Date.now(),
});

describe('fair consumer: the contended per-tenant bound (real Kafka)', () => {
  const kafka = new Kafka({ clientId: 'fair-consumer-e2e', brokers, logLevel: logLevel.NOTHING });
  const answers = new HeldAnswers();
  let queue: KafkaInferenceQueue;
  let teardown: (consumer: KafkaInferenceConsumer | undefined) => Promise<void> = async () => undefined;
  let consumer: KafkaInferenceConsumer | undefined;

  beforeAll(async () => {
    ({ queue, teardown } = await topicWithQueue(kafka, topic));
    consumer = new KafkaInferenceConsumer(kafka, topic, `group-${topic}`, logger, 4, {
      mode: 'fair',
      maxPerTenant: 3,
      maxPerTenantContended: 1,
    });
    await consumer.start(answers.handler);
  }, 60_000);

  afterAll(async () => {
    for (const id of answers.started) answers.release(id);
    await teardown(consumer);
  }, 60_000);

  it('holds a busy tenant to the bound while another is active, and gives its slots back by itself after the window', async () => {
    for (let n = 0; n < 8; n++) await queue.enqueue(request('busy', n));
    // Alone: three at once (INFERENCE_MAX_PER_TENANT), the fourth slot kept for others.
    await until('busy runs 3', () => answers.running('busy').length === 3, 30_000);

    await queue.enqueue(request('quiet', 0));
    await until('quiet runs', () => answers.running('quiet').length === 1);
    const [first, second] = answers.running('busy');
    answers.release(first!);
    answers.release(second!);
    answers.release('quiet-a0');
    await until('busy is down to 1', () => answers.running('busy').length === 1);
    // quiet was read well within the window: busy starts nothing more although three slots are free.
    await new Promise((r) => setTimeout(r, 400));
    expect(answers.running('busy')).toHaveLength(1);

    // Nothing finishes from here on; quiet stays quiet. After the window busy is alone and gets 3 again.
    await until('busy runs 3 again', () => answers.running('busy').length === 3, 5_000);
    expect(answers.running('quiet')).toHaveLength(0);
  }, 90_000);
});

describe('fair consumer: offset commits (real Kafka)', () => {
  const kafka = new Kafka({ clientId: 'fair-consumer-commits-e2e', brokers, logLevel: logLevel.NOTHING });
  const commitsTopic = `${topic}.commits`;
  let queue: KafkaInferenceQueue;
  let teardown: (consumer: KafkaInferenceConsumer | undefined) => Promise<void> = async () => undefined;
  let consumer: KafkaInferenceConsumer;
  const answered = new Set<string>();

  beforeAll(async () => {
    ({ queue, teardown } = await topicWithQueue(kafka, commitsTopic));
    consumer = new KafkaInferenceConsumer(kafka, commitsTopic, `group-${commitsTopic}`, logger, 4, { mode: 'fair' });
    // A quick answer, as the built-in engine's: many finish while one commit is in flight.
    await consumer.start(async (r) => {
      await new Promise((resolve) => setTimeout(resolve, 2));
      answered.add(r.answerId);
    });
  }, 60_000);

  afterAll(() => teardown(consumer), 60_000);

  it('commits everything it answered, in far fewer requests than answers', async () => {
    const count = 200;
    const started = Date.now();
    await Promise.all(Array.from({ length: count }, (_, n) => queue.enqueue(request(`t${n % 5}`, n))));
    await until('all answered', () => answered.size === count, 30_000);
    const answeringMs = Date.now() - started;
    // The last answers' offsets are committed after the pause that follows the commit before them.
    let lag: Record<number, number> = {};
    const deadline = Date.now() + 10_000;
    do {
      lag = await consumer.lagByPartition();
      if (Object.values(lag).every((n) => n === 0)) break;
      await new Promise((r) => setTimeout(r, 50));
    } while (Date.now() < deadline);
    expect(Object.values(lag)).toEqual([0, 0, 0]);
    expect(consumer.offsetCommitsSent).toBeGreaterThan(0);
    // At most one commit per pause (50 ms) while answering, and the last one after it.
    expect(consumer.offsetCommitsSent).toBeLessThanOrEqual(Math.ceil(answeringMs / 50) + 2);
    expect(consumer.offsetCommitsSent).toBeLessThan(count / 4);
  }, 60_000);
});
