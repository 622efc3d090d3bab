import { spawn, type ChildProcess } from 'node:child_process';
import { FakeOpenAIServer } from '@beedesk/inference/testing';
import type { BeedeskClient } from '@beedesk/sdk';
import Redis from 'ioredis';
import { e2eEnvironment, e2ePort } from '../harness/cluster';

// Issue 11 points 1 and 4 through the real gateway, real processes and Kafka, with a Redis of the
// test's own (so it can be paused) and a real (fake) LLM over HTTP that streams slowly or hangs.
const e2e = e2eEnvironment('claims', 15800);
const REDIS_PORT = Number(process.env.E2E_OWN_REDIS_PORT ?? e2ePort(15810));
const CLAIM_TTL_MS = 1000;
const ANSWER_DEADLINE_MS = 8000;
const TENANT = 'claims-llm';
const fake = new FakeOpenAIServer();
let redisServer: ChildProcess;
let redis: Redis;
let customer: BeedeskClient;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const expectedReply = (question: string) => `According to "Card delivery", here is the answer to: ${question}`;

beforeAll(async () => {
  redisServer = spawn('redis-server', ['--port', String(REDIS_PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  redis = new Redis(`redis://127.0.0.1:${REDIS_PORT}`, { lazyConnect: true, retryStrategy: () => 100 });
  for (let i = 0; i < 50; i++) {
    if (
      await redis.connect().then(
        () => true,
        () => false,
      )
    )
      break;
    await sleep(100);
  }
  await redis.ping();
  e2e.env.REDIS_URL = `redis://127.0.0.1:${REDIS_PORT}`;
  const llmUrl = await fake.start();
  for (const name of ['tenant', 'session', 'answer'] as const) await e2e.cluster.start(name);
  await e2e.cluster.start('inference', {
    ENGINE_TENANTS: `${TENANT}=llm`,
    LLM_BASE_URL: llmUrl,
    // Generous engine timeouts: only the answer deadline may end a hanging call here.
    LLM_FIRST_TOKEN_TIMEOUT_MS: '60000',
    LLM_IDLE_TIMEOUT_MS: '60000',
    LLM_MAX_RETRIES: '0',
    INFERENCE_CLAIM_TTL_MS: String(CLAIM_TTL_MS),
    INFERENCE_ANSWER_DEADLINE_MS: String(ANSWER_DEADLINE_MS),
  });
  await e2e.cluster.start('gateway');
  const admin = e2e.client(await e2e.token(TENANT, 'admin', 'admin'));
  customer = e2e.client(await e2e.token(TENANT, 'dana', 'customer'));
  await admin.upsertArticle({ id: 'card', title: 'Card delivery', body: 'Cards arrive within 7 days.', questions: ['where is my card'] });
}, 120_000);

afterAll(async () => {
  if (redisServer?.pid) process.kill(redisServer.pid, 'SIGCONT');
  await e2e.cluster.stopAll();
  redis?.disconnect();
  redisServer?.kill('SIGTERM');
  await fake.stop();
});

it('Redis paused mid-stream longer than the claim TTL, one worker: the answer still completes exactly once', async () => {
  fake.plan([], 'ok', 120); // ~1.5 s of tokens
  const question = 'where is my card today?';
  const session = await customer.startSession();
  const { answer } = await customer.ask(session.id, question);
  const seqKey = `${e2e.keyPrefix}:{${TENANT}}:answer:${answer.id}:stream-seq`;
  for (let i = 0; i < 200 && Number(await redis.get(seqKey)) < 2; i++) await sleep(25);
  expect(Number(await redis.get(seqKey))).toBeGreaterThanOrEqual(2);
  const requestsBefore = fake.requests.length;

  process.kill(redisServer.pid!, 'SIGSTOP');
  await sleep(CLAIM_TTL_MS * 2.5); // every claim has lapsed when Redis runs again
  process.kill(redisServer.pid!, 'SIGCONT');

  const done = await customer.waitForAnswer(answer.id, { timeoutMs: 20_000, intervalMs: 200 });
  expect(done).toMatchObject({ status: 'DONE', text: expectedReply(question) });
  const assistant = (await customer.session(session.id))!.turns.filter((t) => t.role === 'ASSISTANT');
  expect(assistant.map((t) => [t.answerId, t.text])).toEqual([[answer.id, expectedReply(question)]]);
  // The same call went on: the LLM was not asked again, and no claim or stream key is left.
  expect(fake.requests.length).toBe(requestsBefore);
  expect(await redis.exists(`${e2e.keyPrefix}:{${TENANT}}:answer:${answer.id}:claim`, seqKey)).toBe(0);
}, 60_000);

it('an engine that hangs is cut at the answer deadline: FALLBACK, the claim ends and the next question is answered', async () => {
  fake.plan(['stall'], 'ok', 5); // the first call: headers, then silence forever
  const customer = e2e.client(await e2e.token(TENANT, 'erin', 'customer')); // a session of her own
  const session = await customer.startSession();
  const hung = await customer.ask(session.id, 'where is my card please?');
  const next = await customer.ask(session.id, 'where is my card now?');
  const started = Date.now();
  const fallback = await customer.waitForAnswer(hung.answer.id, { timeoutMs: ANSWER_DEADLINE_MS + 10_000, intervalMs: 200 });
  expect(fallback).toMatchObject({ status: 'FALLBACK', text: 'The system is busy, please try again shortly.', needsHuman: true });
  expect(Date.now() - started).toBeLessThan(ANSWER_DEADLINE_MS + 5_000);
  expect(await redis.exists(`${e2e.keyPrefix}:{${TENANT}}:answer:${hung.answer.id}:claim`)).toBe(0);
  // The session's partition is free again: the question behind it is answered, in order.
  expect(await customer.waitForAnswer(next.answer.id, { timeoutMs: 15_000 })).toMatchObject({ status: 'DONE' });
  const assistant = (await customer.session(session.id))!.turns.filter((t) => t.role === 'ASSISTANT');
  expect(assistant.map((t) => t.answerId)).toEqual([hung.answer.id, next.answer.id]);
}, 60_000);
