import { connectRedis, HOUR, tenantKeys, type InferenceRequest, type Redis, keysMatching } from '@beedesk/runtime';
import { HandoffStore } from '@beedesk/handoff/data';
import { HISTORY_RETENTION_MS, SessionRepository } from '@beedesk/session/data';
import { AnswerRepository, type AnswerOutcome, type AnswerRecord } from './answers';

// The fences of the answer data against the real Redis (REDIS_URL or 127.0.0.1:6379), under a key
// prefix of its own that it removes after. Through real processes and Kafka: ops/e2e/answer-durability.
describe('AnswerRepository fences (real Redis)', () => {
  const prefix = `unit-answers-${process.pid}-${Date.now()}`;
  const tenant = 'ta';
  let redis: Redis;
  let answers: AnswerRepository;
  let sessions: SessionRepository;
  const keys = tenantKeys(prefix, tenant);
  const done: AnswerOutcome = { text: 'the reply', status: 'DONE', sourceIds: [], confidence: 1, needsHuman: false, engine: 'test' };

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

  let n = 0;
  async function asked(clientMessageId: string | null = null, userId = `user-${++n}`) {
    const { session } = await sessions.startOrResume(tenant, userId);
    const id = `answer-${++n}`;
    const answer: AnswerRecord = {
      id,
      sessionId: session.id,
      userId,
      question: `question ${n}`,
      text: '',
      status: 'QUEUED',
      sourceIds: [],
      confidence: null,
      needsHuman: false,
      engine: null,
      clientMessageId,
      createdAt: new Date().toISOString(),
      completedAt: null,
    };
    const request: InferenceRequest = {
      v: 1,
      tenantId: tenant,
      sessionId: session.id,
      userId,
      answerId: id,
      question: answer.question,
      history: [],
      requestId: 'r',
      enqueuedAt: Date.now(),
    };
    const receipt = await answers.createAsk(tenant, answer, request, new Date());
    return { answer, request, session, receipt };
  }

  it('ask is one step: answer, user turn, place in line and outbox entry; a retry returns the same answer and its place', async () => {
    const ahead = await asked();
    const { answer, session, receipt } = await asked('m-1', 'user-retry');
    expect(receipt).toMatchObject({ created: true, queuePosition: (await answers.pendingCount(tenant)) - 1 });
    expect((await sessions.turns(tenant, session.id)).map((t) => [t.role, t.text])).toEqual([['USER', answer.question]]);
    expect(await answers.outboxDue(tenant, Date.now() + 1, 100)).toEqual(
      expect.arrayContaining([expect.objectContaining({ answerId: answer.id, request: expect.objectContaining({ answerId: answer.id }) })]),
    );

    // The retry (a new answer id minted, same clientMessageId) writes nothing and names the first answer.
    const retryAnswer: AnswerRecord = { ...answer, id: 'answer-retry' };
    const retry = await answers.createAsk(tenant, retryAnswer, { ...(await asked()).request, answerId: 'answer-retry' }, new Date());
    expect(retry).toMatchObject({ created: false, answer: { id: answer.id }, queuePosition: receipt.queuePosition });
    expect(await answers.get(tenant, 'answer-retry')).toBeNull();
    expect(await sessions.turns(tenant, session.id)).toHaveLength(1);

    // The line moves: the retry reports the real, current position.
    expect(await answers.claim(tenant, ahead.answer.id, 'w', 5000)).toBe('ours');
    expect(await answers.completeClaimed(tenant, ahead.answer, done, 'w', 5000)).not.toBeNull();
    const later = await answers.createAsk(tenant, retryAnswer, { ...(await asked()).request, answerId: 'answer-retry' }, new Date());
    expect(later.queuePosition).toBe(receipt.queuePosition - 1);
  });

  it('never overwrites a final answer: failIfQueued only turns an unclaimed QUEUED answer into FAILED', async () => {
    const { answer } = await asked();
    expect(await answers.claim(tenant, answer.id, 'w', 5000)).toBe('ours');
    expect(await answers.completeClaimed(tenant, answer, done, 'w', 5000)).not.toBeNull();
    expect(await answers.failIfQueued(tenant, answer, 'failed', 'NOT_QUEUED')).toBeNull();
    expect(await answers.get(tenant, answer.id)).toMatchObject({ status: 'DONE', text: 'the reply' });

    const claimed = (await asked()).answer;
    expect(await answers.claim(tenant, claimed.id, 'w', 5000)).toBe('ours');
    expect(await answers.failIfQueued(tenant, claimed, 'failed', 'NOT_QUEUED')).toBeNull();

    const stuck = (await asked()).answer;
    expect(await answers.failIfQueued(tenant, stuck, 'failed', 'NOT_QUEUED')).toMatchObject({ status: 'FAILED' });
    expect(await answers.get(tenant, stuck.id)).toMatchObject({ status: 'FAILED', failureReason: 'NOT_QUEUED' });
    expect(await redis.zscore(keys.pending, stuck.id)).toBeNull();
    expect(await redis.zscore(keys.outbox, stuck.id)).toBeNull();
    // A worker that gets the request afterwards finds it closed.
    expect(await answers.claim(tenant, stuck.id, 'w', 5000)).toBe('closed');
  });

  it('release is compare-and-delete; a lapsed claim nobody holds is taken again by its worker', async () => {
    const { answer } = await asked();
    expect(await answers.claim(tenant, answer.id, 'old', 5000)).toBe('ours');
    await redis.del(keys.answerClaim(answer.id)); // lapsed
    expect(await answers.claim(tenant, answer.id, 'new', 5000)).toBe('ours');
    await answers.release(tenant, answer.id, 'old'); // the stale worker
    expect(await answers.claimHolder(tenant, answer.id)).toBe('new');
    expect(await answers.appendStream(tenant, answer, 'old', 'x', 5000)).toBeNull();

    await answers.release(tenant, answer.id, 'new');
    expect(await answers.claimHolder(tenant, answer.id)).toBeNull();
    // Lapsed with nobody holding it: the heartbeat, the next token and the completion take it again.
    expect(await answers.refreshClaim(tenant, answer.id, 'new', 5000)).toBe(true);
    await redis.del(keys.answerClaim(answer.id));
    expect(await answers.appendStream(tenant, answer, 'new', 'Hi', 5000)).toBe(1);
    await redis.del(keys.answerClaim(answer.id));
    expect(await answers.completeClaimed(tenant, answer, done, 'new', 5000)).not.toBeNull();
    // Once final, nobody takes it again.
    expect(await answers.refreshClaim(tenant, answer.id, 'new', 5000)).toBe(false);
    expect(await answers.appendStream(tenant, answer, 'new', 'again', 5000)).toBeNull();
  });

  it('the first streamed token makes the answer ANSWERING; stream and attempt keys live as long as the answer', async () => {
    const { answer } = await asked();
    expect(await answers.claim(tenant, answer.id, 'w', 5000)).toBe('ours');
    expect(await answers.recordAttempt(tenant, answer.id, 'w', 5000)).toBe(1);
    expect((await answers.get(tenant, answer.id))?.status).toBe('QUEUED');
    expect(await answers.appendStream(tenant, answer, 'w', 'Hel', 5000)).toBe(1);
    expect((await answers.get(tenant, answer.id))?.status).toBe('ANSWERING');
    expect(await redis.pttl(keys.answer(answer.id))).toBeGreaterThan(HISTORY_RETENTION_MS - HOUR);
    for (const key of [keys.answerStream(answer.id), keys.answerStreamSeq(answer.id), keys.answerAttempts(answer.id)]) {
      // A redelivery days later (Kafka keeps the request) still continues at the next seq.
      expect(await redis.pttl(key)).toBeGreaterThan(HISTORY_RETENTION_MS - HOUR);
    }
    expect(await answers.appendStream(tenant, answer, 'w', 'lo', 5000)).toBe(2);
  });

  it('a message to a person is stored and logged for staff in one step: nothing after the write is needed for consoles to see it', async () => {
    const userId = `user-${++n}`;
    const { session } = await sessions.startOrResume(tenant, userId);
    // A conversation a person owns, with the customer typing.
    await redis.hset(keys.handoff(session.id), 'state', 'WITH_HUMAN', 'userId', userId);
    await redis.set(keys.handoffTyping(session.id, 'customer'), '{}', 'PX', 60_000);
    const handoff = new HandoffStore(redis, prefix);
    const before = Number(await handoff.logCursor(tenant));
    const answer: AnswerRecord = {
      id: `answer-${++n}`,
      sessionId: session.id,
      userId,
      question: 'are you there?',
      text: '',
      status: 'QUEUED',
      sourceIds: [],
      confidence: null,
      needsHuman: false,
      engine: null,
      clientMessageId: null,
      createdAt: new Date().toISOString(),
      completedAt: null,
    };
    const request: InferenceRequest = {
      v: 1,
      tenantId: tenant,
      sessionId: session.id,
      userId,
      answerId: answer.id,
      question: answer.question,
      history: [],
      requestId: 'r',
      enqueuedAt: Date.now(),
    };
    // Only the write: whatever ask does after it (the poke) may never happen if its process dies.
    const receipt = await answers.createAsk(tenant, answer, request, new Date());
    expect(receipt.answer.status).toBe('WITH_HUMAN');
    expect(receipt.withHuman).toEqual({ turnSeq: expect.any(Number), cursor: String(before + 1), state: 'WITH_HUMAN' });
    const { events, gap } = await handoff.eventsAfter(tenant, before, 10);
    expect(gap).toBe(false);
    expect(events).toEqual([
      expect.objectContaining({
        cursor: String(before + 1),
        kind: 'CUSTOMER_MESSAGE',
        conversationId: session.id,
        message: {
          turnSeq: receipt.withHuman!.turnSeq,
          text: 'are you there?',
          at: expect.any(String),
          author: { kind: 'CUSTOMER', id: userId, displayName: null },
        },
      }),
    ]);
    expect((await handoff.conversation(tenant, session.id))?.lastCustomerMessageAt).toEqual(expect.any(String));
    expect(await handoff.typing(tenant, session.id, 'customer')).toBe(false);
    // Nothing for the engine.
    expect(await redis.zscore(keys.outbox, answer.id)).toBeNull();
  });

  it('notes an unsure answer only while the answer exists: a user erased between completion and the note leaves no id behind', async () => {
    const { answer, session } = await asked();
    await answers.noteUnsure(tenant, answer.id);
    expect(await redis.zscore(keys.unsureAnswers, answer.id)).not.toBeNull();
    const { answer: erasedLater } = await asked(null, 'user-erased-mid-answer');
    // deleteMyData ran after the worker completed the answer but before it noted it as unsure.
    await sessions.eraseUser(tenant, 'user-erased-mid-answer');
    expect(await answers.get(tenant, erasedLater.id)).toBeNull();
    await answers.noteUnsure(tenant, erasedLater.id);
    expect(await redis.zscore(keys.unsureAnswers, erasedLater.id)).toBeNull();
    expect(session.id).toBeTruthy();
  });
});
