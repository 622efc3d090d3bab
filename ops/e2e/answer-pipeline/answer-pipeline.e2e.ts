import { FakeOpenAIServer } from '@beedesk/inference/testing';
import type { BeedeskClient } from '@beedesk/sdk';
import Redis from 'ioredis';
import { Cluster } from '../../src/cluster';
import { e2eEnvironment, e2ePort } from '../harness/cluster';

// Issue 4 through real processes, real Kafka and Redis, and a real (fake) LLM over HTTP.
const e2e = e2eEnvironment('pipeline', 14600);
const fake = new FakeOpenAIServer();
const LLM_TENANT = 'pipeline-llm';
let llmEnv: NodeJS.ProcessEnv;
let redis: Redis;
let admin: BeedeskClient;
let customer: BeedeskClient;
const extraReplicas: Cluster[] = [];

beforeAll(async () => {
  const llmUrl = await fake.start();
  llmEnv = {
    ENGINE_TENANTS: `${LLM_TENANT}=llm`,
    LLM_BASE_URL: llmUrl,
    LLM_FIRST_TOKEN_TIMEOUT_MS: '600',
    LLM_IDLE_TIMEOUT_MS: '2000',
    LLM_MAX_RETRIES: '1',
    LLM_RETRY_INITIAL_DELAY_MS: '50',
    BREAKER_THRESHOLD: '2',
    BREAKER_HALF_OPEN_AFTER_MS: '1500',
  };
  for (const name of ['tenant', 'session', 'answer'] as const) await e2e.cluster.start(name);
  await e2e.cluster.start('inference', llmEnv);
  await e2e.cluster.start('gateway');
  redis = new Redis(e2e.env.REDIS_URL!);
  admin = e2e.client(await e2e.token(LLM_TENANT, 'admin', 'admin'));
  customer = e2e.client(await e2e.token(LLM_TENANT, 'carol', 'customer'));
  await admin.upsertArticle({
    id: 'card',
    title: 'Card delivery',
    body: 'Cards arrive within 7 days.',
    questions: ['my card has not arrived', 'where is my card'],
  });
  await admin.upsertArticle({
    id: 'pin',
    title: 'PIN reset',
    body: 'Reset the PIN in the app.',
    questions: ['forgot my pin', 'reset my pin'],
  });
});

afterAll(async () => {
  for (const replica of extraReplicas) await replica.stopAll();
  await e2e.cluster.stopAll();
  redis?.disconnect();
  await fake.stop();
});

async function ask(text: string) {
  const session = await customer.startSession();
  const receipt = await customer.ask(session.id, text);
  return { session, answerId: receipt.answer.id };
}

const expectedReply = (question: string) => `According to "Card delivery", here is the answer to: ${question}`;

it('streams an LLM answer built from the tenant’s articles', async () => {
  fake.plan([], 'ok', 5);
  const { answerId } = await ask('where is my card?');
  const answer = await customer.waitForAnswer(answerId);
  expect(answer).toMatchObject({ status: 'DONE', text: expectedReply('where is my card?') });
  expect(answer.sources[0]?.id).toBe('card');
});

it('deadline → retry → success', async () => {
  fake.plan(['stall'], 'ok', 5);
  const before = fake.requests.length;
  const { answerId } = await ask('my card has not arrived');
  expect((await customer.waitForAnswer(answerId)).status).toBe('DONE');
  expect(fake.requests.length - before).toBe(2);
});

it('the breaker opens after repeated failures, fallbacks are stored while open, and it closes after recovery', async () => {
  fake.plan([], 'http-500');
  const first = await ask('where is my card?');
  const failed = await customer.waitForAnswer(first.answerId);
  expect(failed).toMatchObject({ status: 'FALLBACK', text: 'The system is busy, please try again shortly.', needsHuman: true });
  expect((await admin.inferenceStatus()).breaker).toBe('OPEN');

  const calls = fake.requests.length;
  const whileOpen = await ask('where is my card?');
  expect((await customer.waitForAnswer(whileOpen.answerId)).status).toBe('FALLBACK');
  expect(fake.requests.length).toBe(calls); // not even tried

  fake.plan([], 'ok', 5);
  await new Promise((resolve) => setTimeout(resolve, 1600));
  const recovered = await ask('where is my card?');
  expect((await customer.waitForAnswer(recovered.answerId)).status).toBe('DONE');
  expect((await admin.inferenceStatus()).breaker).toBe('CLOSED');
  const metrics = await (await fetch(e2e.cluster.urlOf('inference').replace('/graphql', '/metrics'))).text();
  expect(metrics).toMatch(/beedesk_inference_breaker_state\{endpoint="http:\/\/127\.0\.0\.1:\d+",service="inference"\} 0/);
  expect(metrics).toMatch(/beedesk_inference_queue_lag\{partition="0",service="inference"\} \d+/);
});

it('a worker killed (SIGKILL) mid-answer: another worker completes it exactly once, continuing the stream', async () => {
  fake.plan([], 'ok', 150); // a slow stream: ~2 s
  const question = 'where is my card right now?';
  const { session, answerId } = await ask(question);
  const seqKey = `${e2e.keyPrefix}:{${LLM_TENANT}}:answer:${answerId}:stream-seq`;
  for (let i = 0; i < 100 && Number(await redis.get(seqKey)) < 3; i++) await new Promise((r) => setTimeout(r, 50));
  expect(Number(await redis.get(seqKey))).toBeGreaterThanOrEqual(3);

  await e2e.cluster.stop('inference', 'SIGKILL');
  // Another worker joins the group; once the dead member's session and claim lapse, it takes over.
  const requestsBefore = fake.requests.length;
  const replacement = new Cluster({ env: { ...e2e.env, ...llmEnv }, ports: { inference: e2ePort(14699) } });
  extraReplicas.push(replacement);
  await replacement.start('inference');

  const answer = await customer.waitForAnswer(answerId, { timeoutMs: 90_000, intervalMs: 250 });
  expect(answer).toMatchObject({ status: 'DONE', text: expectedReply(question) });
  const turns = (await customer.session(session.id))!.turns.filter((t) => t.role === 'ASSISTANT' && t.answerId === answerId);
  expect(turns.map((t) => t.text)).toEqual([expectedReply(question)]);
  // The new worker asked the LLM to continue what had been streamed, instead of starting over.
  const continued = fake.requests.slice(requestsBefore);
  expect(continued).toHaveLength(1);
  expect(continued[0]!.messages[continued[0]!.messages.length - 1]?.role).toBe('assistant');
  await e2e.cluster.start('inference', llmEnv);
}, 120_000);

it('keeps per-session order under concurrency with two workers', async () => {
  fake.plan([], 'ok', 1);
  const replica = new Cluster({ env: { ...e2e.env, ...llmEnv }, ports: { inference: e2ePort(14698) } });
  extraReplicas.push(replica);
  await replica.start('inference');
  const sessions = await Promise.all(
    Array.from({ length: 8 }, async (_, i) => {
      const client = e2e.client(await e2e.token(LLM_TENANT, `order-${i}`, 'customer'));
      const session = await client.startSession();
      const ids: string[] = [];
      for (let q = 0; q < 4; q++) ids.push((await client.ask(session.id, `question ${q} of ${i}`)).answer.id);
      return { client, session, ids };
    }),
  );
  for (const { client, session, ids } of sessions) {
    await Promise.all(ids.map((id) => client.waitForAnswer(id, { timeoutMs: 60_000 })));
    const assistant = (await client.session(session.id))!.turns.filter((t) => t.role === 'ASSISTANT');
    expect(assistant.map((t) => t.answerId)).toEqual(ids);
  }
});
