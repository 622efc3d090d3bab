import type { Answer, BeedeskClient } from '@beedesk/sdk';
import { e2eEnvironment } from '../harness/cluster';

// SIGTERM while answers are in flight: the worker finishes what it holds, commits and exits 0;
// whatever it had not started is answered after a restart. Nothing lost, nothing answered twice.
const e2e = e2eEnvironment('shutdown', 14200);
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
  await e2e.cluster.startAll();
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

afterAll(() => e2e.cluster.stopAll());

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

  // Start a worker and stop it as soon as it is busy.
  await e2e.cluster.start('inference');
  const probe = asked[0]!;
  for (let i = 0; i < 200; i++) {
    const done = await Promise.all(probe.answerIds.map((id) => probe.client.answer(id)));
    if (done.some((a) => a?.status === 'DONE')) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const stoppedAt = Date.now();
  expect(await e2e.cluster.stop('inference', 'SIGTERM')).toBe(0);
  expect(Date.now() - stoppedAt).toBeLessThan(20_000);

  await e2e.cluster.start('inference');
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
