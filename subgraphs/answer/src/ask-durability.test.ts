import { connectRedis, NO_EVENTS, type InferenceQueue, type InferenceRequest, type Redis, keysMatching } from '@beedesk/runtime';
import { AnswerRepository } from './data';
import { SessionRepository } from '@beedesk/session/data';
import { HandoffActions } from '@beedesk/handoff/data';
import { DEFAULT_HANDOFF_RULES, HandoffRulesRepository } from '@beedesk/tenant/data';
import pino from 'pino';
import { ask, type AskContext } from './ask';
import { NOT_QUEUED_REASON, startOutboxSweeper } from './outbox-sweeper';

// `ask` and its outbox sweeper against the real Redis (REDIS_URL or 127.0.0.1:6379, own key prefix,
// removed after). The queue is a stand-in here because the cases need a broker that acknowledges too
// late or never; through real Kafka and processes see ops/e2e/answer-durability.
describe('ask durability (real Redis)', () => {
  const prefix = `unit-ask-${process.pid}-${Date.now()}`;
  const tenantId = 'tq';
  const log = pino({ level: 'silent' });
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

  const contextFor = (userId: string, queue: InferenceQueue): AskContext => ({
    caller: { tenantId, userId, roles: ['customer'], requestId: 'req' },
    log,
    answers,
    sessions,
    queue,
    handoff: HandoffActions.create(redis, prefix, NO_EVENTS, log),
    events: NO_EVENTS,
  });

  it('a send that times out after Kafka delivered it (and a worker answered) never overwrites the answer; the retry gets it', async () => {
    const { session } = await sessions.startOrResume(tenantId, 'late-ack');
    // The broker delivers and a worker answers, but the acknowledgement comes too late for the ask.
    const deliveredThenTimedOut: InferenceQueue = {
      enqueue: async (request: InferenceRequest) => {
        const answer = (await answers.get(tenantId, request.answerId))!;
        expect(await answers.claim(tenantId, answer.id, 'worker', 5000)).toBe('ours');
        const outcome = {
          text: 'Cards arrive in 7 days.',
          status: 'DONE' as const,
          sourceIds: [],
          confidence: 1,
          needsHuman: false,
          engine: 'kb',
        };
        await answers.completeClaimed(tenantId, answer, outcome, 'worker', 5000);
        throw new Error('Kafka did not acknowledge within 5000 ms');
      },
      close: async () => undefined,
    };
    const context = contextFor('late-ack', deliveredThenTimedOut);
    const first = await ask({ sessionId: session.id, text: 'Where is my card?', clientMessageId: 'late-1' }, context);
    expect(await answers.get(tenantId, first.answer.id)).toMatchObject({ status: 'DONE', text: 'Cards arrive in 7 days.' });

    const retry = await ask({ sessionId: session.id, text: 'Where is my card?', clientMessageId: 'late-1' }, context);
    expect(retry.answer).toMatchObject({ id: first.answer.id, status: 'DONE' });
    expect((await sessions.turns(tenantId, session.id)).map((t) => t.role)).toEqual(['USER', 'ASSISTANT']);
    // And the sweeper, finding nothing open, sends nothing again.
    const sent: string[] = [];
    const sweeper = startOutboxSweeper(
      answers,
      { enqueue: async (r) => void sent.push(r.answerId), close: async () => undefined },
      NO_EVENTS,
      log,
      {
        OUTBOX_SWEEP_INTERVAL_MS: 60_000,
        OUTBOX_RESEND_AFTER_MS: 0,
        OUTBOX_GIVE_UP_MS: 0,
      },
    );
    await sweeper.sweep();
    await sweeper.stop();
    expect(sent).toEqual([]);
    expect(await answers.get(tenantId, first.answer.id)).toMatchObject({ status: 'DONE' });
  });

  it('a question Kafka never takes is sent again by the sweeper, then answered FAILED with a reason; the retry gets that answer', async () => {
    const { session } = await sessions.startOrResume(tenantId, 'no-kafka');
    let attempts = 0;
    const down: InferenceQueue = {
      enqueue: async () => {
        attempts++;
        throw new Error('the Kafka producer is not connected');
      },
      close: async () => undefined,
    };
    const context = contextFor('no-kafka', down);
    const receipt = await ask({ sessionId: session.id, text: 'Is anyone there?', clientMessageId: 'down-1' }, context);
    expect(receipt.answer.status).toBe('QUEUED');
    expect(attempts).toBe(1);

    const settings = { OUTBOX_SWEEP_INTERVAL_MS: 60_000, OUTBOX_RESEND_AFTER_MS: 0, OUTBOX_GIVE_UP_MS: 400 };
    const sweeper = startOutboxSweeper(answers, down, NO_EVENTS, log, settings);
    await sweeper.sweep();
    expect(attempts).toBe(2); // sent again
    expect((await answers.get(tenantId, receipt.answer.id))?.status).toBe('QUEUED');
    await new Promise((resolve) => setTimeout(resolve, 450));
    await sweeper.sweep();
    await sweeper.stop();
    expect(await answers.get(tenantId, receipt.answer.id)).toMatchObject({
      status: 'FAILED',
      failureReason: NOT_QUEUED_REASON,
      needsHuman: true,
    });
    expect(await answers.pendingCount(tenantId)).toBe(0);

    const retry = await ask({ sessionId: session.id, text: 'Is anyone there?', clientMessageId: 'down-1' }, context);
    expect(retry.answer).toMatchObject({ id: receipt.answer.id, status: 'FAILED' });
    expect(await sessions.turns(tenantId, session.id)).toHaveLength(1);
  });

  it('an answer the sweeper fails hands the conversation to a person when the rules hand off on engine failure', async () => {
    const failingTenant = 'tq-rules';
    await new HandoffRulesRepository(redis, prefix).set(failingTenant, { ...DEFAULT_HANDOFF_RULES, enabled: true, onEngineFailure: true });
    const { session } = await sessions.startOrResume(failingTenant, 'no-kafka-rules');
    const down: InferenceQueue = {
      enqueue: async () => {
        throw new Error('the Kafka producer is not connected');
      },
      close: async () => undefined,
    };
    const context: AskContext = {
      ...contextFor('no-kafka-rules', down),
      caller: { tenantId: failingTenant, userId: 'no-kafka-rules', roles: ['customer'], requestId: 'req' },
    };
    const receipt = await ask({ sessionId: session.id, text: 'Where is my card?' }, context);
    expect(receipt.answer.status).toBe('QUEUED');

    const handoff = HandoffActions.create(redis, prefix, NO_EVENTS, log);
    const settings = { OUTBOX_SWEEP_INTERVAL_MS: 60_000, OUTBOX_RESEND_AFTER_MS: 0, OUTBOX_GIVE_UP_MS: 0 };
    const sweeper = startOutboxSweeper(answers, down, NO_EVENTS, log, settings, handoff);
    await sweeper.sweep();
    await sweeper.stop();
    expect((await answers.get(failingTenant, receipt.answer.id))?.status).toBe('FAILED');
    expect(await handoff.store.conversation(failingTenant, session.id)).toMatchObject({
      state: 'WAITING_FOR_HUMAN',
      reason: 'ENGINE_FAILED',
    });
    expect((await handoff.store.audit(failingTenant, session.id)).at(-1)).toMatchObject({
      to: 'WAITING_FOR_HUMAN',
      reason: 'ENGINE_FAILED',
      source: 'ENGINE',
    });
  });
});
