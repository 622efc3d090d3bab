import { connectionFailed, Endpoints, neverSent } from './endpoints';
import { ResumableAnswerStream, type ResumeHost } from './resume';
import { PushQueue } from './subscribe-queue';
import type { AnswerEvent, ResumeAnswerSnapshot } from './types';

const token = (seq: number, delta: string): AnswerEvent => ({
  answerId: 'a1',
  seq,
  kind: 'TOKEN',
  delta,
  queuePosition: null,
  answer: null,
});
const stored = (status: string, text: string, streamed: { text: string; seq: number } | null = null): ResumeAnswerSnapshot =>
  ({
    id: 'a1',
    sessionId: 's1',
    question: 'q',
    text,
    status,
    confidence: null,
    needsHuman: false,
    createdAt: '2026-12-01T00:00:00.000Z',
    completedAt: null,
    sources: [],
    streamed,
  }) as ResumeAnswerSnapshot;
const done = (seq: number, text: string): AnswerEvent =>
  ({ answerId: 'a1', seq, kind: 'DONE', delta: null, queuePosition: null, answer: stored('DONE', text) }) as AnswerEvent;

/** A host whose subscriptions the test feeds, one after the other, and whose stored answer it sets. */
function fakeHost() {
  const subscriptions: PushQueue<AnswerEvent>[] = [];
  const state = { answer: null as ResumeAnswerSnapshot | null, reads: 0 };
  const host: ResumeHost = {
    subscribe: () => {
      const queue = new PushQueue<AnswerEvent>(() => undefined);
      subscriptions.push(queue);
      return queue;
    },
    snapshot: async () => {
      state.reads++;
      return state.answer;
    },
  };
  return { host, subscriptions, state };
}

const closed = Object.assign(new Error('The connection closed (1006)'), { code: 'CONNECTION_CLOSED' });

async function take(stream: AsyncIterableIterator<AnswerEvent>, n: number): Promise<AnswerEvent[]> {
  const events: AnswerEvent[] = [];
  while (events.length < n) events.push((await stream.next()).value as AnswerEvent);
  return events;
}

const until = async (check: () => boolean) => {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
};

describe('ResumableAnswerStream', () => {
  it('after a lost connection: what was missed arrives once as a catch-up TOKEN, nothing is repeated, the final event once', async () => {
    const { host, subscriptions, state } = fakeHost();
    const stream = new ResumableAnswerStream(host, 's1', { idleCheckMs: 60_000 });
    stream.track('a1');
    await until(() => subscriptions.length === 1);
    subscriptions[0]!.push(token(1, 'Cards '));
    subscriptions[0]!.push(token(2, 'arrive '));
    const first = await take(stream, 2);
    // The gateway dies; meanwhile pieces 3-5 are stored (and published to nobody).
    state.answer = stored('ANSWERING', '', { text: 'Cards arrive within 7 ', seq: 5 });
    subscriptions[0]!.end(closed);
    await until(() => subscriptions.length === 2);
    await until(() => state.reads === 1);
    // The new subscription hears 5 again (published after it subscribed but before the read), then 6 and DONE.
    subscriptions[1]!.push(token(5, '7 '));
    subscriptions[1]!.push(token(6, 'days.'));
    subscriptions[1]!.push(done(7, 'Cards arrive within 7 days.'));
    const rest = await take(stream, 3);
    await stream.return();
    const events = [...first, ...rest];
    expect(events.map((e) => [e.kind, e.seq, e.delta ?? null])).toEqual([
      ['TOKEN', 1, 'Cards '],
      ['TOKEN', 2, 'arrive '],
      ['TOKEN', 5, 'within 7 '],
      ['TOKEN', 6, 'days.'],
      ['DONE', 7, null],
    ]);
    expect(events.map((e) => e.delta ?? '').join('')).toBe('Cards arrive within 7 days.');
  });

  it('an answer that became final while the stream was away: its final event is built from the stored answer, and the late one dropped', async () => {
    const { host, subscriptions, state } = fakeHost();
    const stream = new ResumableAnswerStream(host, 's1', { idleCheckMs: 60_000 });
    await until(() => subscriptions.length === 1);
    subscriptions[0]!.push(token(1, 'Cards '));
    await take(stream, 1);
    state.answer = stored('DONE', 'Cards arrive within 7 days.');
    subscriptions[0]!.end(closed);
    const events = await take(stream, 2);
    subscriptions[1]!.push(done(4, 'Cards arrive within 7 days.'));
    subscriptions[1]!.push(token(3, 'days.'));
    expect(events.map((e) => [e.kind, e.seq, e.delta ?? null])).toEqual([
      ['TOKEN', 2, 'arrive within 7 days.'],
      ['DONE', 3, null],
    ]);
    expect(events[1]!.answer?.text).toBe('Cards arrive within 7 days.');
    // Nothing else comes: the stream ends only on return().
    const next = stream.next();
    await stream.return();
    expect((await next).done).toBe(true);
  });

  it('a TOKEN after a gap waits while the store is read; a quiet answer is read from the store', async () => {
    const { host, subscriptions, state } = fakeHost();
    const stream = new ResumableAnswerStream(host, 's1', { idleCheckMs: 50 });
    stream.track('a1');
    state.answer = stored('ANSWERING', '', { text: 'Cards arrive ', seq: 2 });
    await until(() => subscriptions.length === 1);
    subscriptions[0]!.push(token(3, 'within'));
    const events = await take(stream, 2);
    expect(events.map((e) => [e.seq, e.delta])).toEqual([
      [2, 'Cards arrive '],
      [3, 'within'],
    ]);
    state.answer = stored('FALLBACK', 'Sorry, try again later.');
    const [final] = await take(stream, 1);
    await stream.return();
    expect(final!.kind).toBe('FALLBACK');
  });

  it('ends with the error when subscribing again cannot help (FORBIDDEN)', async () => {
    const { host, subscriptions } = fakeHost();
    const stream = new ResumableAnswerStream(host, 's1', { idleCheckMs: 60_000 });
    await until(() => subscriptions.length === 1);
    subscriptions[0]!.end(Object.assign(new Error('another user'), { code: 'FORBIDDEN' }));
    await expect(stream.next()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(subscriptions).toHaveLength(1);
  });
});

describe('Endpoints', () => {
  it('moves on once per failed replica, round the list', () => {
    const endpoints = new Endpoints(['http://a/graphql', 'http://b/graphql']);
    endpoints.failed('http://a/graphql');
    endpoints.failed('http://a/graphql');
    expect(endpoints.current()).toBe('http://b/graphql');
    endpoints.failed('http://b/graphql');
    expect(endpoints.current()).toBe('http://a/graphql');
  });

  it('sends again elsewhere only what cannot have run (a refused connection)', () => {
    const failure = (code: string) => new TypeError('fetch failed', { cause: Object.assign(new Error(code), { code }) });
    expect(neverSent(failure('ECONNREFUSED'))).toBe(true);
    expect(neverSent(failure('ECONNRESET'))).toBe(false);
    expect(neverSent(new Error('x'))).toBe(false);
    expect(connectionFailed(failure('ECONNRESET'))).toBe(true);
    expect(connectionFailed(new TypeError('not a fetch failure'))).toBe(false);
  });
});
