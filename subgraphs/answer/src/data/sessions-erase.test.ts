import { createInMemoryRedis, tenantKeys } from '@beedesk/runtime';
import { SessionRepository } from '@beedesk/session/data';
import { AnswerRepository, type AnswerRecord } from './answers';

// The erasure's key bookkeeping on the in-process Redis stand-in; ops/e2e/erasure runs the same
// through the real gateway, services, Kafka and Redis.
describe('SessionRepository.eraseUser', () => {
  const redis = createInMemoryRedis();
  const prefix = `erase${process.pid}`;
  const sessions = new SessionRepository(redis, prefix);
  const answers = new AnswerRepository(redis, prefix);
  afterAll(() => redis.disconnect());

  /** A key's value as text, whatever its type ('' when empty: the stand-in keeps emptied sets). */
  async function contentOf(key: string): Promise<string> {
    const type = await redis.type(key);
    if (type === 'string') return (await redis.get(key)) ?? '';
    if (type === 'hash') return JSON.stringify(await redis.hgetall(key)).replace(/^\{\}$/, '');
    if (type === 'list') return (await redis.lrange(key, 0, -1)).join('\n');
    if (type === 'set') return (await redis.smembers(key)).join('\n');
    if (type === 'zset') return (await redis.zrange(key, 0, -1)).join('\n');
    return '';
  }
  /** Keys of a tenant that hold something, with their contents. */
  async function liveKeys(tenantId: string): Promise<[string, string][]> {
    const keys = await redis.keys(`${prefix}:{${tenantId}}:*`);
    const contents = await Promise.all(keys.map(async (key): Promise<[string, string]> => [key, await contentOf(key)]));
    return contents.filter(([, content]) => content !== '');
  }

  /** What the answer subgraph's ask writes (one script): reservation, QUEUED answer + user turn, the line, the outbox. */
  async function ask(
    tenantId: string,
    sessionId: string,
    userId: string,
    question: string,
    clientMessageId: string,
  ): Promise<AnswerRecord> {
    const answer: AnswerRecord = {
      id: `a-${clientMessageId}`,
      sessionId,
      userId,
      question,
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
    const request = {
      v: 1 as const,
      tenantId,
      sessionId,
      userId,
      answerId: answer.id,
      question,
      history: [],
      requestId: 'r',
      enqueuedAt: 0,
    };
    expect((await answers.createAsk(tenantId, answer, request, new Date())).created).toBe(true);
    return answer;
  }

  it('removes every key of the user and leaves other users and tenants alone', async () => {
    const { session: u1 } = await sessions.startOrResume('ta', 'user-u');
    const done = await ask('ta', u1.id, 'user-u', 'secret question one', 'm1');
    expect(await answers.claim('ta', done.id, 'w1', 10_000)).toBe('ours');
    expect(await answers.appendStream('ta', done, 'w1', 'partial', 10_000)).toBe(1);
    expect(await answers.recordAttempt('ta', done.id, 'w1', 10_000)).toBe(1);
    const outcome = { text: 'reply one', status: 'DONE' as const, sourceIds: [], confidence: 0.9, needsHuman: false, engine: 'kb' };
    expect(await answers.completeClaimed('ta', done, outcome, 'w1', 10_000)).not.toBeNull();
    // Noted for staff as unsure (the list names answers of every user of the tenant).
    expect(await answers.noteUnsure('ta', done.id)).toBe(true);
    await ask('ta', u1.id, 'user-u', 'secret question two', 'm2'); // still waiting in line
    const { session: v1 } = await sessions.startOrResume('ta', 'user-v');
    const vAnswer = await ask('ta', v1.id, 'user-v', 'question of v', 'mv');
    expect(await answers.noteUnsure('ta', vAnswer.id)).toBe(true);
    const { session: b1 } = await sessions.startOrResume('tb', 'user-u'); // same user id, another tenant
    await ask('tb', b1.id, 'user-u', 'question in b', 'mb');

    const erased = await sessions.eraseUser('ta', 'user-u');
    expect(erased).toMatchObject({ sessions: 1, answers: 2 });
    expect(erased.keys).toBeGreaterThanOrEqual(8);

    const mentionsU = (text: string) =>
      [u1.id, 'user-u', 'a-m1', 'a-m2', 'secret question', 'reply one', 'partial'].some((s) => text.includes(s));
    const remaining = await liveKeys('ta');
    expect(remaining.filter(([key, content]) => mentionsU(key) || mentionsU(content))).toEqual([]);
    expect(remaining.length).toBeGreaterThan(0); // V's data is still there
    // The waiting line keeps V's question only.
    expect(await redis.zrange(tenantKeys(prefix, 'ta').pending, 0, -1)).toEqual([vAnswer.id]);
    // The unsure list keeps V's answer only.
    expect(await redis.zrange(tenantKeys(prefix, 'ta').unsureAnswers, 0, -1)).toEqual([vAnswer.id]);
    expect(await sessions.get('ta', v1.id)).not.toBeNull();
    expect((await sessions.turns('ta', v1.id)).map((t) => t.text)).toEqual(['question of v']);
    expect(await sessions.get('tb', b1.id)).not.toBeNull();
    expect(await answers.get('tb', 'a-mb')).not.toBeNull();
    // A second erase finds nothing.
    expect(await sessions.eraseUser('ta', 'user-u')).toEqual({ sessions: 0, answers: 0, keys: 0 });
  });

  it('fences a worker that was answering: after the erase its writes create no key', async () => {
    const { session } = await sessions.startOrResume('tc', 'user-w');
    const answer = await ask('tc', session.id, 'user-w', 'in flight', 'inflight');
    expect(await answers.claim('tc', answer.id, 'w1', 10_000)).toBe('ours');
    expect(await answers.appendStream('tc', answer, 'w1', 'Hel', 10_000)).toBe(1);

    await sessions.eraseUser('tc', 'user-w');

    const outcome = { text: 'Hello', status: 'DONE' as const, sourceIds: [], confidence: 1, needsHuman: false, engine: 'kb' };
    expect(await answers.appendStream('tc', answer, 'w1', 'lo', 10_000)).toBeNull();
    expect(await answers.recordAttempt('tc', answer.id, 'w1', 10_000)).toBeNull();
    expect(await answers.refreshClaim('tc', answer.id, 'w1', 10_000)).toBe(false);
    expect(await answers.completeClaimed('tc', answer, outcome, 'w1', 10_000)).toBeNull();
    // The worker's retry path re-claims: an erased answer cannot be claimed again.
    expect(await answers.claim('tc', answer.id, 'w1', 10_000)).toBe('closed');
    expect(await answers.claim('tc', answer.id, 'w2', 10_000)).toBe('closed');
    // Left: the line counter and the tenant's statistics buckets (counts, no user data), which the
    // fenced writes after the erase did not count into (no outcome; one conversation, one first token).
    const left = await liveKeys('tc');
    expect(left.map(([key]) => key).filter((key) => !key.includes(':answer-stats:'))).toEqual([`${prefix}:{tc}:pending-seq`]);
    const buckets = left.filter(([key]) => key.includes(':answer-stats:'));
    expect(buckets).toHaveLength(2);
    for (const [key] of buckets)
      expect(Object.keys(await redis.hgetall(key)).sort()).toEqual(['asks', 'conversations', expect.stringMatching(/^ft:\d+$/)]);
  });

  it('indexes sessions with the 7-day retention of their data', async () => {
    const keys = tenantKeys(prefix, 'td');
    const { session } = await sessions.startOrResume('td', 'user-x');
    await ask('td', session.id, 'user-x', 'q', 'mx');
    for (const key of [keys.userSessions('user-x'), keys.sessionAnswers(session.id), keys.sessionAsks(session.id)]) {
      const ttl = await redis.pttl(key);
      expect(ttl).toBeGreaterThan(6.9 * 24 * 3600 * 1000);
      expect(ttl).toBeLessThanOrEqual(7 * 24 * 3600 * 1000);
    }
    expect(await redis.zrange(keys.userSessions('user-x'), 0, -1)).toEqual([session.id]);
    expect(await redis.smembers(keys.sessionAnswers(session.id))).toEqual(['a-mx']);
    expect(await redis.smembers(keys.sessionAsks(session.id))).toEqual(['mx']);
  });
});
