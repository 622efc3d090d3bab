import { FakeOpenAIServer } from '@beedesk/inference/testing';
import type { Answer, BeedeskClient } from '@beedesk/sdk';
import Redis from 'ioredis';
import { e2eEnvironment } from '../harness/cluster';

// SIGTERM while answers are in flight: the worker finishes what it holds, commits and exits 0;
// whatever it had not started is answered after a restart. Nothing lost, nothing answered twice.
// The engine is a slow streaming LLM (the fake, over HTTP), so SIGTERM surely lands mid-answer.
const e2e = e2eEnvironment('shutdown', 14200);
const fake = new FakeOpenAIServer();
let llmEnv: NodeJS.ProcessEnv;
let redis: Redis;
const SESSIONS = 20;
const QUESTIONS = 5;
const questions = [
  'My card has not arrived',
  'How do I reset my PIN?',
  'What is the exchange rate?',
  'Where is my card?',
  'PIN help please',
];

beforeAll(async () => {
  llmEnv = { ENGINE_TENANTS: 'demo-bank=llm', LLM_BASE_URL: await fake.start(), LLM_IDLE_TIMEOUT_MS: '10000' };
  fake.plan([], 'ok', 60); // ~0.8 s per answer
  for (const name of ['tenant', 'session', 'answer'] as const) await e2e.cluster.start(name);
  await e2e.cluster.start('inference', llmEnv);
  await e2e.cluster.start('gateway');
  redis = new Redis(e2e.env.REDIS_URL!);
  const admin = e2e.client(await e2e.token('demo-bank', 'admin', 'admin'));
  await admin.upsertArticle({
    id: 'card',
    title: 'Card delivery',
    body: 'Cards arrive within 7 days.',
    questions: ['my card has not arrived', 'where is my new card'],
  });
  await admin.upsertArticle({
    id: 'pin',
    title: 'PIN reset',
    body: 'Reset your PIN in the app.',
    questions: ['how do I reset my pin', 'forgot my pin'],
  });
  await admin.upsertArticle({
    id: 'fx',
    title: 'Exchange rates',
    body: 'We use the interbank rate.',
    questions: ['what exchange rate do you use'],
  });
});

afterAll(async () => {
  await e2e.cluster.stopAll();
  redis?.disconnect();
  await fake.stop();
});

/** Stored statuses of the answers, read straight from Redis (one round trip). */
async function statuses(ids: string[]): Promise<Map<string, string | undefined>> {
  const raws = await redis.mget(ids.map((id) => `${e2e.keyPrefix}:{demo-bank}:answer:${id}`));
  return new Map(ids.map((id, i) => [id, raws[i] ? (JSON.parse(raws[i]!) as { status: string }).status : undefined]));
}

async function waitAll(client: BeedeskClient, ids: string[]): Promise<Answer[]> {
  return Promise.all(ids.map((id) => client.waitForAnswer(id, { timeoutMs: 60_000, intervalMs: 200 })));
}

it('SIGTERM mid-load: exit 0, then every answer exactly once, in order per session', async () => {
  expect(await e2e.cluster.stop('inference', 'SIGTERM')).toBe(0);

  // Queue 100 questions in Kafka while no worker runs.
  const asked: { client: BeedeskClient; sessionId: string; answerIds: string[] }[] = [];
  const positions: number[] = [];
  await Promise.all(
    Array.from({ length: SESSIONS }, async (_, i) => {
      const client = e2e.client(await e2e.token('demo-bank', `user-${i}`, 'customer'));
      const session = await client.startSession();
      const answerIds: string[] = [];
      for (let q = 0; q < QUESTIONS; q++) {
        const receipt = await client.ask(session.id, questions[q]!);
        answerIds.push(receipt.answer.id);
        positions.push(receipt.queuePosition);
      }
      asked.push({ client, sessionId: session.id, answerIds });
    }),
  );

  // A deep queue: every ask was answered at once, each with its own place in the tenant's line.
  expect([...positions].sort((a, b) => a - b)).toEqual(positions.map((_, i) => i));

  // Start a worker and stop it while it streams answers.
  await e2e.cluster.start('inference', llmEnv);
  const allIds = asked.flatMap((a) => a.answerIds);
  let inFlight: string[] = [];
  for (let i = 0; i < 400 && inFlight.length === 0; i++) {
    inFlight = [...(await statuses(allIds))].filter(([, status]) => status === 'ANSWERING').map(([id]) => id);
    if (inFlight.length === 0) await new Promise((r) => setTimeout(r, 25));
  }
  expect(inFlight.length).toBeGreaterThan(0);
  const stoppedAt = Date.now();
  expect(await e2e.cluster.stop('inference', 'SIGTERM')).toBe(0);
  expect(Date.now() - stoppedAt).toBeLessThan(20_000);
  // No worker runs now: the answers that were streaming at SIGTERM were finished by that worker before it exited.
  const afterExit = await statuses(inFlight);
  expect(inFlight.map((id) => afterExit.get(id))).toEqual(inFlight.map(() => 'DONE'));

  await e2e.cluster.start('inference', llmEnv);
  for (const { client, sessionId, answerIds } of asked) {
    const answers = await waitAll(client, answerIds);
    expect(answers.map((a) => a.status)).toEqual(answerIds.map(() => 'DONE'));
    const turns = (await client.session(sessionId))!.turns;
    const assistant = turns.filter((t) => t.role === 'ASSISTANT');
    // Exactly one assistant turn per question, in the order the questions were asked.
    expect(assistant.map((t) => t.answerId)).toEqual(answerIds);
    expect(turns).toHaveLength(QUESTIONS * 2);
  }
});
