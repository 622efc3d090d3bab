import pino from 'pino';
import {
  NO_EVENTS,
  connectRedis,
  createInProcessEventBus,
  InProcessQueue,
  type InferenceQueue,
  type Caller,
  type InferenceRequest,
  type Redis,
  keysMatching,
} from '@beedesk/runtime';
import { SessionRepository } from '@beedesk/session/data';
import { HandoffActions } from '@beedesk/handoff/data';
import { ask, type AskArgs } from './ask';
import { AnswerRepository } from './data';

// `ask` against the real Redis (REDIS_URL or 127.0.0.1:6379) under a key prefix of its own, removed after,
// with the embedded default's in-process queue standing in for Kafka.
describe('ask: one answer per clientMessageId', () => {
  const prefix = `unit-ask-${process.pid}-${Date.now()}`;
  const logger = pino({ level: 'silent' });
  let redis: Redis;
  let answers: AnswerRepository;
  let sessions: SessionRepository;

  beforeAll(async () => {
    redis = await connectRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    answers = new AnswerRepository(redis, prefix);
    sessions = new SessionRepository(redis, prefix);
  });
  afterAll(async () => {
    const found = await keysMatching(redis, `${prefix}:*`);
    if (found.length) await redis.del(...found);
    redis.disconnect();
  });

  const callerOf = (userId: string): Caller => ({ tenantId: 'acme', userId, roles: ['customer'], requestId: `req-${userId}` });
  const contextFor = (userId: string, queue: InferenceQueue) => ({
    caller: callerOf(userId),
    log: logger,
    answers,
    sessions,
    queue,
    redis,
    events: createInProcessEventBus(prefix, logger),
    handoff: HandoffActions.create(redis, prefix, NO_EVENTS, logger),
  });

  /** A started in-process queue and the requests it delivered (complete once `stop` resolves). */
  async function recordingQueue() {
    const delivered: InferenceRequest[] = [];
    const queue = new InProcessQueue(logger);
    await queue.start(async (request) => {
      delivered.push(request);
    });
    return { queue, delivered };
  }

  it('answers retries of one message, sequential or concurrent, with the first answer and enqueues it once', async () => {
    const { session } = await sessions.startOrResume('acme', 'retrier');
    const { queue, delivered } = await recordingQueue();
    const context = contextFor('retrier', queue);
    const args: AskArgs = { sessionId: session.id, text: 'Where is my card?', clientMessageId: 'msg-1' };

    const first = await ask(args, context);
    const retries = await Promise.all([ask(args, context), ask(args, context), ask({ ...args, text: '  Where is my card?  ' }, context)]);
    await queue.stop();

    expect(retries.map((receipt) => receipt.answer.id)).toEqual([first.answer.id, first.answer.id, first.answer.id]);
    expect(delivered.map((request) => request.answerId)).toEqual([first.answer.id]);
    const turns = await sessions.turns('acme', session.id);
    expect(turns.filter((turn) => turn.role === 'USER')).toHaveLength(1);
  });

  it('treats another clientMessageId, or none, as a new question', async () => {
    const { session } = await sessions.startOrResume('acme', 'asker');
    const { queue, delivered } = await recordingQueue();
    const context = contextFor('asker', queue);
    const a = await ask({ sessionId: session.id, text: 'one', clientMessageId: 'a' }, context);
    const b = await ask({ sessionId: session.id, text: 'one', clientMessageId: 'b' }, context);
    const c = await ask({ sessionId: session.id, text: 'one' }, context);
    const d = await ask({ sessionId: session.id, text: 'one' }, context);
    await queue.stop();
    expect(new Set([a, b, c, d].map((receipt) => receipt.answer.id)).size).toBe(4);
    expect(delivered).toHaveLength(4);
  });

  it('refuses another user’s session (FORBIDDEN) and an unknown one (NOT_FOUND) before storing anything', async () => {
    const { session } = await sessions.startOrResume('acme', 'owner');
    const { queue, delivered } = await recordingQueue();
    await expect(ask({ sessionId: session.id, text: 'peek', clientMessageId: 'x' }, contextFor('intruder', queue))).rejects.toMatchObject({
      extensions: { code: 'FORBIDDEN' },
    });
    await expect(ask({ sessionId: 'no-such-session', text: 'hi' }, contextFor('owner', queue))).rejects.toMatchObject({
      extensions: { code: 'NOT_FOUND' },
    });
    await queue.stop();
    expect(delivered).toEqual([]);
    expect(await sessions.turns('acme', session.id)).toEqual([]);
  });
});
