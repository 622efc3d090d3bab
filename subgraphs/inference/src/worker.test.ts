import { createInMemoryRedis, tenantKeys, type AnswerEventMessage, type EventPublisher, type InferenceRequest } from '@beedesk/runtime';
import { AnswerRepository, type AnswerRecord } from '@beedesk/answer/data';
import { SessionRepository } from '@beedesk/session/data';
import pino from 'pino';
import { streamChunks } from './engines/chunks';
import type { AnswerEngine, EngineCall } from './engines/types';
import { EngineFallbackError } from './resilience';
import { InferenceWorker } from './worker';

// The worker's exactly-once logic on the in-process Redis stand-in; across real processes and
// Kafka (SIGTERM, SIGKILL, a failing LLM) it is covered in ops/e2e.
describe('InferenceWorker', () => {
  const redis = createInMemoryRedis();
  const prefix = `worker${process.pid}`;
  const answers = new AnswerRepository(redis, prefix);
  const sessions = new SessionRepository(redis, prefix);
  const log = pino({ level: 'silent' });
  const published: AnswerEventMessage[] = [];
  const events: EventPublisher = {
    publishAnswerEvent: async (_t, e) => void published.push(e),
    publishActivity: async () => undefined,
    publishHandoff: async () => undefined,
  };
  afterAll(() => redis.disconnect());

  /** A deterministic engine that streams `text` in chunks, optionally stopping after `stopAfter` of them. */
  const scripted = (text: string, options: { delayMs?: number; stopAfter?: number; fail?: Error } = {}) => {
    const engine: AnswerEngine & { calls: number } = {
      name: 'scripted',
      endpoint: 'test',
      calls: 0,
      async answer(_request: InferenceRequest, call: EngineCall) {
        engine.calls++;
        if (options.fail) throw options.fail;
        const chunks = streamChunks(text.slice(call.resumeFrom.length), 1);
        for (let i = 0; i < chunks.length; i++) {
          if (options.stopAfter !== undefined && i === options.stopAfter) await new Promise(() => undefined); // hangs: a "crashed" worker
          await new Promise((resolve) => setTimeout(resolve, options.delayMs ?? 0));
          await call.onToken(chunks[i]!);
        }
        return { text, sourceIds: ['a1'], confidence: 0.9, needsHuman: false };
      },
    };
    return engine;
  };
  const worker = (engine: AnswerEngine, claimTtlMs = 2000) =>
    new InferenceWorker(answers, { engineFor: () => engine }, log, events, undefined, { claimTtlMs, maxAttempts: 3 });

  async function queued(question: string): Promise<InferenceRequest> {
    const { session } = await sessions.startOrResume('t', `user-${question}`);
    const answer: AnswerRecord = {
      id: `ans-${question}`,
      sessionId: session.id,
      userId: session.userId,
      question,
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
    const multi = redis.multi();
    answers.queueSave(multi, 't', answer);
    await multi.exec();
    return {
      v: 1,
      tenantId: 't',
      sessionId: session.id,
      userId: session.userId,
      answerId: answer.id,
      question,
      history: [],
      requestId: 'r',
      enqueuedAt: Date.now(),
    };
  }
  /** The claim lapsing (as a TTL would drop it), whoever held it. */
  const dropClaim = (r: InferenceRequest) => redis.del(tenantKeys(prefix, 't').answerClaim(r.answerId));
  const assistantTurns = async (r: InferenceRequest) => (await sessions.turns('t', r.sessionId)).filter((t) => t.role === 'ASSISTANT');
  const eventsOf = (r: InferenceRequest) => published.filter((e) => e.answerId === r.answerId);

  it('answers a request once however often and concurrently it is delivered', async () => {
    const request = await queued('q1');
    const engine = scripted('one two three four', { delayMs: 5 });
    await Promise.all([worker(engine).handle(request), worker(engine).handle(request), worker(engine).handle(request)]);
    await worker(engine).handle(request);
    expect(engine.calls).toBe(1);
    expect(await answers.get('t', request.answerId)).toMatchObject({ status: 'DONE', text: 'one two three four', engine: 'scripted' });
    expect(await assistantTurns(request)).toHaveLength(1);
    expect(eventsOf(request).map((e) => [e.seq, e.kind, e.delta])).toEqual([
      [1, 'TOKEN', 'one '],
      [2, 'TOKEN', 'two '],
      [3, 'TOKEN', 'three '],
      [4, 'TOKEN', 'four'],
      [5, 'DONE', null],
    ]);
  });

  it('an engine with the whole answer at once costs two token events, not one per piece; the text is unchanged', async () => {
    const request = await queued('q-whole');
    const text = 'one two three four five six seven eight nine ten eleven twelve';
    const whole: AnswerEngine = {
      name: 'whole',
      endpoint: 'test',
      async answer(_request: InferenceRequest, call: EngineCall) {
        // The built-in engine's way: every piece handed over without waiting for the one before to be written.
        await Promise.all(streamChunks(text, 3).map((chunk) => call.onToken(chunk)));
        return { text, sourceIds: ['a1'], confidence: 0.9, needsHuman: false };
      },
    };
    await worker(whole).handle(request);
    expect(eventsOf(request).map((e) => [e.seq, e.kind, e.delta])).toEqual([
      [1, 'TOKEN', 'one two three '],
      [2, 'TOKEN', 'four five six seven eight nine ten eleven twelve'],
      [3, 'DONE', null],
    ]);
    expect(await answers.get('t', request.answerId)).toMatchObject({ status: 'DONE', text });
  });

  it('a worker taking over after a crash continues the stream without repeating tokens', async () => {
    const request = await queued('q2');
    const text = 'alpha beta gamma delta epsilon';
    // Streams 2 tokens, then hangs; its heartbeat is far off (a long claim), as a dead worker's would be.
    void worker(scripted(text, { stopAfter: 2 }), 100_000).handle(request);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await dropClaim(request); // its claim lapsed
    await worker(scripted(text), 300).handle(request);
    expect(
      eventsOf(request)
        .map((e) => e.delta ?? e.kind)
        .join(''),
    ).toBe(`${text}DONE`);
    expect(eventsOf(request).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await assistantTurns(request)).map((t) => t.text)).toEqual([text]);
  });

  it('a stalled worker whose claim was taken over cannot write a second answer', async () => {
    const request = await queued('q3');
    const slow = worker(scripted('slow answer', { delayMs: 200 }), 100_000);
    const slowRun = slow.handle(request);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await dropClaim(request); // its claim "expired"
    await worker(scripted('fast answer')).handle(request);
    await slowRun;
    expect((await assistantTurns(request)).map((t) => t.text)).toEqual(['fast answer']);
    expect((await answers.get('t', request.answerId))?.text).toBe('fast answer');
  });

  it('stores a FALLBACK answer when the engine is unavailable', async () => {
    const request = await queued('q4');
    await worker(scripted('', { fail: new EngineFallbackError('circuit open') })).handle(request);
    expect(await answers.get('t', request.answerId)).toMatchObject({
      status: 'FALLBACK',
      text: 'The system is busy, please try again shortly.',
      needsHuman: true,
    });
    expect(eventsOf(request).map((e) => e.kind)).toEqual(['FALLBACK']);
  });

  it('releases its claim on unexpected errors and gives up as FAILED after a few deliveries', async () => {
    const request = await queued('q5');
    const broken = worker(scripted('', { fail: new Error('bug') }));
    for (let i = 0; i < 2; i++) await expect(broken.handle(request)).rejects.toThrow('bug');
    // The last allowed delivery answers FAILED instead of throwing (the in-process queue stops retrying).
    await broken.handle(request);
    expect((await answers.get('t', request.answerId))?.status).toBe('FAILED');
    expect(eventsOf(request).map((e) => e.kind)).toEqual(['ERROR']);
  });

  it('tells the waiting askers their new queue position as the line moves', async () => {
    const [first, second, third] = [await queued('p1'), await queued('p2'), await queued('p3')];
    expect(await answers.enterQueue('t', first!.answerId)).toBe(0);
    expect(await answers.enterQueue('t', second!.answerId)).toBe(1);
    expect(await answers.enterQueue('t', third!.answerId)).toBe(2);
    await worker(scripted('done')).handle(first!);
    expect(await answers.pendingCount('t')).toBe(2);
    const updates = published.filter((e) => e.kind === 'QUEUED');
    expect(updates.map((e) => [e.answerId, e.queuePosition])).toEqual([
      [second!.answerId, 0],
      [third!.answerId, 1],
    ]);
  });
});
