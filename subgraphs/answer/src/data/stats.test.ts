import { connectRedis, keysMatching, type InferenceRequest, type Redis } from '@beedesk/runtime';
import { SessionRepository } from '@beedesk/session/data';
import { AnswerRepository, type AnswerOutcome, type AnswerRecord } from './answers';
import { AnswerStatsRepository, binUpperMs, histogramPercentile, latencyBin } from './stats';

describe('latency bins', () => {
  it('a percentile read as its bin’s upper edge is at most 9 % above the exact figure', () => {
    for (const ms of [1, 3, 17, 250, 299, 300, 1234, 60_000]) {
      const upper = binUpperMs(latencyBin(ms));
      expect(upper).toBeGreaterThanOrEqual(ms);
      expect(upper).toBeLessThanOrEqual(ms * 1.091);
    }
  });

  it('nearest rank over the bins', () => {
    const histogram = new Map<number, number>();
    for (let i = 1; i <= 100; i++) histogram.set(latencyBin(i * 10), (histogram.get(latencyBin(i * 10)) ?? 0) + 1);
    expect(histogramPercentile(histogram, 0.5)).toBe(Math.round(binUpperMs(latencyBin(500))));
    expect(histogramPercentile(histogram, 0.95)).toBe(Math.round(binUpperMs(latencyBin(950))));
    expect(histogramPercentile(new Map(), 0.5)).toBeNull();
  });
});

// The statistics are counted inside the answer data's scripts (real Redis, a key prefix of its own).
describe('answer statistics (real Redis)', () => {
  const prefix = `unit-answer-stats-${process.pid}-${Date.now()}`;
  const tenant = 'ts';
  let redis: Redis;
  let answers: AnswerRepository;
  let stats: AnswerStatsRepository;
  let sessions: SessionRepository;
  const done: AnswerOutcome = { text: 'the reply', status: 'DONE', sourceIds: [], confidence: 1, needsHuman: false, engine: 'test' };

  beforeAll(async () => {
    redis = await connectRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    answers = new AnswerRepository(redis, prefix);
    stats = new AnswerStatsRepository(redis, prefix);
    sessions = new SessionRepository(redis, prefix);
  });
  afterAll(async () => {
    const found = await keysMatching(redis, `${prefix}:*`);
    if (found.length) await redis.del(...found);
    redis.disconnect();
  });

  let n = 0;
  async function asked(at: Date, clientMessageId: string | null = null, forTenant = tenant): Promise<AnswerRecord> {
    const userId = `user-${++n}`;
    const { session } = await sessions.startOrResume(forTenant, userId);
    const answer: AnswerRecord = {
      id: `answer-${n}`,
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
      createdAt: at.toISOString(),
      completedAt: null,
    };
    const request: InferenceRequest = {
      v: 1,
      tenantId: forTenant,
      sessionId: session.id,
      userId,
      answerId: answer.id,
      question: answer.question,
      history: [],
      requestId: 'r',
      enqueuedAt: at.getTime(),
    };
    await answers.createAsk(forTenant, answer, request, at);
    return answer;
  }
  const later = (at: Date, ms: number) => new Date(at.getTime() + ms);

  it('counts a conversation once, at its first question, however many follow', async () => {
    const t0 = new Date();
    const own = `${tenant}-conversations`; // its own tenant: the other cases count this tenant's asks exactly
    const first = await asked(t0, null, own);
    for (const [i, id] of ['follow-1', 'follow-2'].entries()) {
      const followUp = { ...first, id, question: `follow-up ${i}` };
      await answers.createAsk(own, followUp, { ...({} as InferenceRequest), answerId: id, sessionId: first.sessionId }, t0);
    }
    expect(await stats.read(own, 'LAST_HOUR', later(t0, 1000))).toMatchObject({ asks: 3, conversations: 1 });
  });

  it('counts asks once, the first token once, outcomes once, and stamps firstTokenAt', async () => {
    const t0 = new Date();
    const streamed = await asked(t0, 'cm-1');
    // A retry of the same client message is not a second ask.
    await answers.createAsk(tenant, { ...streamed, id: 'retry' }, { answerId: 'retry' } as InferenceRequest, t0);
    expect(await answers.claim(tenant, streamed.id, 'w', 5000)).toBe('ours');
    expect(await answers.appendStream(tenant, streamed, 'w', 'Hel', 5000, later(t0, 240))).toBe(1);
    expect(await answers.appendStream(tenant, streamed, 'w', 'lo', 5000, later(t0, 900))).toBe(2);
    expect((await answers.get(tenant, streamed.id))?.firstTokenAt).toBe(later(t0, 240).toISOString());
    const final = await answers.completeClaimed(tenant, streamed, done, 'w', 5000, later(t0, 1000));
    expect(final?.firstTokenAt).toBe(later(t0, 240).toISOString());
    const stored = await answers.get(tenant, streamed.id);
    expect(stored).toMatchObject({ status: 'DONE', firstTokenAt: later(t0, 240).toISOString() });
    // A redelivered completion writes and counts nothing.
    expect(await answers.completeClaimed(tenant, streamed, done, 'w', 5000, later(t0, 1100))).toBeNull();

    // Unsure, and a fallback that streamed nothing: its text arrives at completion, its first token then.
    const unsure = await asked(t0);
    await answers.claim(tenant, unsure.id, 'w', 5000);
    await answers.appendStream(tenant, unsure, 'w', 'Maybe', 5000, later(t0, 480));
    await answers.completeClaimed(tenant, unsure, { ...done, needsHuman: true, confidence: 0.2 }, 'w', 5000, later(t0, 500));
    const fallback = await asked(t0);
    await answers.claim(tenant, fallback.id, 'w', 5000);
    const fell = await answers.completeClaimed(
      tenant,
      fallback,
      { ...done, status: 'FALLBACK', needsHuman: true },
      'w',
      5000,
      later(t0, 2000),
    );
    expect(fell?.firstTokenAt).toBe(later(t0, 2000).toISOString());
    // Never reached the queue: failed, its failure text the first the asker saw.
    const stuck = await asked(t0);
    expect(await answers.failIfQueued(tenant, stuck, 'sorry', 'NOT_QUEUED', later(t0, 30_000))).toMatchObject({
      status: 'FAILED',
      firstTokenAt: later(t0, 30_000).toISOString(),
    });

    const figures = await stats.read(tenant, 'LAST_HOUR', later(t0, 31_000));
    expect(figures).toMatchObject({ asks: 4, conversations: 4, answered: 1, unsure: 1, fallback: 1, failed: 1, withHuman: 0 });
    expect(figures.buckets).toHaveLength(60);
    expect(figures.buckets.reduce((sum, b) => sum + b.asks, 0)).toBe(4);
    expect(figures.firstToken.count).toBe(4);
    // Nearest rank of [240, 480, 2000, 30000]: p50 is the second, p95 the fourth (upper bin edges, ≤ 9 % over).
    expect(figures.firstToken.p50Ms).toBeGreaterThanOrEqual(480);
    expect(figures.firstToken.p50Ms).toBeLessThanOrEqual(480 * 1.091);
    expect(figures.firstToken.p95Ms).toBeGreaterThanOrEqual(30_000);
    expect(figures.firstToken.p95Ms).toBeLessThanOrEqual(30_000 * 1.091);
    const day = await stats.read(tenant, 'LAST_24_HOURS', later(t0, 31_000));
    expect(day).toMatchObject({ asks: 4, answered: 1, unsure: 1, fallback: 1, failed: 1 });
    expect(day.buckets).toHaveLength(24);

    // Bounded: only bucket keys, each expiring.
    const keys = await keysMatching(redis, `${prefix}:{${tenant}}:answer-stats:*`);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.length).toBeLessThanOrEqual(4);
    for (const key of keys) expect(await redis.pttl(key)).toBeGreaterThan(0);
    // Another tenant sees none of it.
    expect(await stats.read('other', 'LAST_HOUR', later(t0, 31_000))).toMatchObject({ asks: 0, firstToken: { count: 0 } });
  });

  it('the window ends with the bucket of now: an hour later the last hour is empty, the last day is not', async () => {
    const t0 = new Date(Date.now() - 90 * 60_000);
    const old = await asked(t0);
    await answers.claim(tenant, old.id, 'w', 5000);
    await answers.completeClaimed(tenant, old, done, 'w', 5000, later(t0, 100));
    const hour = await stats.read(tenant, 'LAST_HOUR', later(t0, 61 * 60_000 + 60_000));
    expect(hour).toMatchObject({ asks: 0, answered: 0, firstToken: { count: 0, p50Ms: null } });
    const day = await stats.read(tenant, 'LAST_24_HOURS', later(t0, 2 * 60_000));
    expect(day.answered).toBeGreaterThanOrEqual(1);
  });
});
