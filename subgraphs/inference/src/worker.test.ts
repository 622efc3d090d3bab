import { AnswerRepository, createInMemoryRedis, SessionRepository, type AnswerRecord, type InferenceRequest } from '@beedesk/runtime';
import pino from 'pino';
import type { AnswerEngine } from './engine';
import { AnswerClaimedElsewhere, InferenceWorker } from './worker';

// De-duplication logic on the in-process Redis stand-in; redelivery across real processes and
// Kafka is covered by ops/e2e/graceful-shutdown.
describe('InferenceWorker', () => {
  const redis = createInMemoryRedis();
  const prefix = `worker${process.pid}`;
  const answers = new AnswerRepository(redis, prefix);
  const sessions = new SessionRepository(redis, prefix);
  const log = pino({ level: 'silent' });
  let calls = 0;
  const engine: AnswerEngine = {
    name: 'fake',
    answer: async (r) => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { text: `answer to ${r.question}`, sourceIds: ['a1'], confidence: 0.9, needsHuman: false };
    },
  };
  afterAll(() => redis.disconnect());

  async function queued(question: string): Promise<InferenceRequest> {
    const { session } = await sessions.startOrResume('t', `user-${question}`);
    const answer: AnswerRecord = {
      id: `ans-${question}`, sessionId: session.id, userId: session.userId, question, text: '', status: 'QUEUED',
      sourceIds: [], confidence: null, needsHuman: false, engine: null, clientMessageId: null,
      createdAt: new Date().toISOString(), completedAt: null,
    };
    const multi = redis.multi();
    answers.queueSave(multi, 't', answer);
    await multi.exec();
    return { v: 1, tenantId: 't', sessionId: session.id, userId: session.userId, answerId: answer.id, question, history: [], requestId: 'r', enqueuedAt: Date.now() };
  }

  it('answers a request once, however often it is delivered', async () => {
    const request = await queued('q1');
    const a = new InferenceWorker(answers, sessions, engine, log);
    const b = new InferenceWorker(answers, sessions, engine, log);
    calls = 0;
    const results = await Promise.allSettled([a.handle(request), b.handle(request)]);
    // The second delivery either waits for the claim (and is retried later) or sees the final answer.
    expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof AnswerClaimedElsewhere)).toBe(true);
    await b.handle(request);
    await a.handle(request);
    expect(calls).toBe(1);
    expect(await answers.get('t', request.answerId)).toMatchObject({ status: 'DONE', text: 'answer to q1', engine: 'fake' });
    const turns = await sessions.turns('t', request.sessionId);
    expect(turns.filter((t) => t.role === 'ASSISTANT')).toHaveLength(1);
  });

  it('releases its claim when the engine fails, so a retry can answer', async () => {
    const request = await queued('q2');
    const failing = new InferenceWorker(answers, sessions, { name: 'x', answer: async () => { throw new Error('down'); } }, log);
    await expect(failing.handle(request)).rejects.toThrow('down');
    await new InferenceWorker(answers, sessions, engine, log).handle(request);
    expect((await answers.get('t', request.answerId))?.status).toBe('DONE');
  });
});
