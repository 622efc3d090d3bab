import Redis from 'ioredis';
import { e2eEnvironment } from '../harness/cluster';

// Issue 11 point 2 through the real gateway, real processes, Redis and Kafka: the answer process is
// killed (SIGKILL) after `ask` wrote the question and before Kafka had it. The write is one atomic
// step with an outbox entry, so after a restart the sweeper sends it, a retry with the same
// clientMessageId gets the real answer and its real place in line, and it is answered exactly once.
const e2e = e2eEnvironment('outbox', 15900);
const TENANT = 'outbox-bank';
const answerEnv = {
  // The producer gathers asks for 1.5 s, so the kill below lands while the request is still in hand.
  KAFKA_PRODUCER_LINGER_MS: '1500',
  OUTBOX_SWEEP_INTERVAL_MS: '300',
  OUTBOX_RESEND_AFTER_MS: '2500',
};
let redis: Redis;

beforeAll(async () => {
  for (const name of ['tenant', 'session'] as const) await e2e.cluster.start(name);
  await e2e.cluster.start('answer', answerEnv);
  await e2e.cluster.start('gateway');
  redis = new Redis(e2e.env.REDIS_URL!);
  const admin = e2e.client(await e2e.token(TENANT, 'admin', 'admin'));
  await admin.upsertArticle({ id: 'card', title: 'Card delivery', body: 'Cards arrive within 7 days.', questions: ['where is my card'] });
}, 120_000);

afterAll(async () => {
  await e2e.cluster.stopAll();
  redis?.disconnect();
});

it('answer process killed between the write and Kafka: the retry gets the same answer and place; answered exactly once', async () => {
  // No worker yet: questions wait in line.
  const other = e2e.client(await e2e.token(TENANT, 'olga', 'customer'));
  const otherSession = await other.startSession();
  const ahead = [await other.ask(otherSession.id, 'where is my card?'), await other.ask(otherSession.id, 'where is my card now?')];
  expect(ahead.map((r) => r.queuePosition)).toEqual([0, 1]);
  expect(await e2e.producedMessages()).toBe(2);

  const customer = e2e.client(await e2e.token(TENANT, 'kim', 'customer'));
  const session = await customer.startSession();
  const indexKey = `${e2e.keyPrefix}:{${TENANT}}:session:${session.id}:answers`;
  const asking = customer.ask(session.id, 'where is my card, please?', 'kim-1').then(
    () => 'answered',
    () => 'failed',
  );
  for (let i = 0; i < 500 && (await redis.scard(indexKey)) === 0; i++) await new Promise((r) => setTimeout(r, 5));
  expect(await e2e.cluster.stop('answer', 'SIGKILL')).toBeNull();
  expect(await asking).toBe('failed');
  const [answerId] = await redis.smembers(indexKey);
  expect(answerId).toBeDefined();
  expect(await e2e.producedMessages()).toBe(2); // the kill landed before Kafka had it

  await e2e.cluster.start('answer', answerEnv);
  const retry = await customer.ask(session.id, 'where is my card, please?', 'kim-1');
  expect(retry.answer.id).toBe(answerId);
  expect(retry.queuePosition).toBe(2); // behind olga's two

  // The sweeper sends it; a worker answers all three.
  for (let i = 0; i < 100 && (await e2e.producedMessages()) < 3; i++) await new Promise((r) => setTimeout(r, 100));
  expect(await e2e.producedMessages()).toBe(3);
  await e2e.cluster.start('inference');
  const answer = await customer.waitForAnswer(answerId!, { timeoutMs: 30_000 });
  expect(answer.status).toBe('DONE');
  for (const receipt of ahead) expect((await other.waitForAnswer(receipt.answer.id, { timeoutMs: 30_000 })).status).toBe('DONE');
  const turns = (await customer.session(session.id))!.turns;
  expect(turns.map((t) => [t.role, t.answerId ?? null])).toEqual([
    ['USER', answerId],
    ['ASSISTANT', answerId],
  ]);
  expect(await redis.zcard(`${e2e.keyPrefix}:{${TENANT}}:outbox`)).toBe(0);
}, 120_000);
