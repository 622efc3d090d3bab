import { readFileSync } from 'node:fs';
import Redis from 'ioredis';
import pino from 'pino';
import WebSocket from 'ws';
import { CONTEXT_HEADER, createRedisEventBus, signContext, type AnswerEventMessage, type EventBus, type Role } from '@beedesk/runtime';
import { AnswerRepository } from '@beedesk/answer/data';
import { BeedeskClient, BeedeskError, type AnswerEvent, type SubscriptionProtocol } from '@beedesk/sdk';
import { demoBank } from '../../src/demo/data';
import { seedDemoTenants } from '../../src/demo/seed';
import { mintToken } from '@beedesk/gateway';
import { e2eEnvironment, e2ePort, E2E_INTERNAL_SECRET, E2E_JWT_SECRET, postGraphQL } from '../harness/cluster';
import { metric, until } from '../harness/metrics';

// Federated subscriptions through the real gateway, with two replicas of the answer subgraph on
// different ports against one real Redis. The gateway's answer URL is replica A; questions are
// asked on replica B, and the inference side's events come from this test's own Redis
// connection (a third publisher), so every event crosses processes through Redis pub/sub.
// No inference process runs: the test plays the worker, which makes the event sequence exact.
const e2e = e2eEnvironment('subs', 14400);
const REPLICA_B = { instance: 'answer-b', port: e2ePort(14410) };
const replicaB = `http://127.0.0.1:${REPLICA_B.port}/graphql`;
let redis: Redis;
let bus: EventBus;
let answers: AnswerRepository;

beforeAll(async () => {
  for (const name of ['tenant', 'session', 'answer'] as const) await e2e.cluster.start(name);
  await e2e.cluster.start('answer', {}, REPLICA_B);
  // One user holds 1,000 sockets below (memory bound): no per-user cap (sockets, subscriptions, rate) here.
  await e2e.cluster.start('gateway', {
    GATEWAY_MAX_SOCKETS_PER_USER: '0',
    GATEWAY_MAX_SUBSCRIPTIONS_PER_USER: '0',
    GATEWAY_RATE_LIMIT_USER: '0',
  });
  await seedDemoTenants(e2e.gatewayUrl, { tenants: [demoBank()], jwtSecret: E2E_JWT_SECRET });
  redis = new Redis(e2e.env.REDIS_URL!);
  bus = createRedisEventBus(redis, e2e.keyPrefix, pino({ level: 'silent' }));
  answers = new AnswerRepository(redis, e2e.keyPrefix);
}, 120_000);

afterAll(async () => {
  await bus?.close();
  redis?.disconnect();
  await e2e.cluster.stopAll();
});

const client = async (tenant: string, user: string, role: Role = 'customer', ttlSeconds?: number) => {
  const token = await mintToken({ tenant, user, roles: [role], secret: E2E_JWT_SECRET, ttlSeconds });
  return new BeedeskClient({ url: e2e.gatewayUrl, token, webSocketImpl: WebSocket });
};

/** `ask` sent straight to replica B (as the gateway would, with a signed context). */
async function askOnReplicaB(tenantId: string, userId: string, sessionId: string, text: string): Promise<string> {
  const signed = signContext({ tenantId, userId, roles: ['customer'], requestId: 'e2e' }, E2E_INTERNAL_SECRET);
  const { body } = await postGraphQL(
    replicaB,
    { query: 'mutation($s: ID!, $t: String!) { ask(sessionId: $s, text: $t) { answer { id } } }', variables: { s: sessionId, t: text } },
    { [CONTEXT_HEADER]: signed },
  );
  return (body.data as { ask: { answer: { id: string } } }).ask.answer.id;
}

/** Plays the inference worker: TOKEN deltas, then the stored DONE answer and its event. */
async function answerAsWorker(tenantId: string, sessionId: string, answerId: string, deltas: string[]): Promise<void> {
  let seq = 0;
  const event = (kind: AnswerEventMessage['kind'], delta: string | null): AnswerEventMessage => ({
    answerId,
    sessionId,
    seq: ++seq,
    kind,
    delta,
    queuePosition: null,
  });
  for (const delta of deltas) await bus.publishAnswerEvent(tenantId, event('TOKEN', delta));
  const record = await answers.get(tenantId, answerId);
  const outcome = {
    text: deltas.join(''),
    status: 'DONE' as const,
    sourceIds: ['bank-card-arrival'],
    confidence: 0.9,
    needsHuman: false,
    engine: 'e2e',
  };
  await answers.complete(tenantId, record!, outcome, () => undefined);
  await bus.publishAnswerEvent(tenantId, event('DONE', null));
}

const openOnReplicaA = () => metric(e2e.cluster.urlOf('answer'), 'beedesk_open_subscriptions');

async function take<T>(iterator: AsyncIterableIterator<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) {
    const step = await iterator.next();
    if (step.done) break;
    out.push(step.value);
  }
  await iterator.return?.();
  return out;
}

/** Every result up to the end, and the error that ended it (if any). */
async function drain<T>(iterator: AsyncIterableIterator<T>): Promise<{ values: T[]; code: string | null }> {
  const values: T[] = [];
  try {
    for await (const value of iterator) values.push(value);
    return { values, code: null };
  } catch (error) {
    if (error instanceof BeedeskError) return { values, code: error.code };
    throw error;
  }
}

const rssKb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);

describe.each(['graphql-ws', 'sse'] as SubscriptionProtocol[])('answerStream over %s', (protocol) => {
  it('a client on replica A gets every event of an answer asked on replica B, in order, with source titles from the tenant subgraph', async () => {
    const alice = await client('demo-bank', `alice-${protocol}`);
    const session = await alice.startSession();
    const before = await openOnReplicaA();
    const received = take(alice.answerStream(session.id, { protocol }), 5);
    await until(async () => (await openOnReplicaA()) === before + 1);

    const answerId = await askOnReplicaB('demo-bank', `alice-${protocol}`, session.id, "I still haven't received my new card");
    await answerAsWorker('demo-bank', session.id, answerId, ['Your card ', 'is on ', 'its way.']);
    const events: AnswerEvent[] = await received;
    expect(events.map((e) => [e.answerId, e.seq, e.kind, e.delta])).toEqual([
      [answerId, 0, 'QUEUED', null],
      [answerId, 1, 'TOKEN', 'Your card '],
      [answerId, 2, 'TOKEN', 'is on '],
      [answerId, 3, 'TOKEN', 'its way.'],
      [answerId, 4, 'DONE', null],
    ]);
    expect(events[0]!.answer?.status).toBe('QUEUED');
    expect(events[4]!.answer).toMatchObject({
      id: answerId,
      status: 'DONE',
      text: 'Your card is on its way.',
      sources: [{ id: 'bank-card-arrival', title: 'My new card has not arrived yet' }],
    });
    // Leaving released the upstream subscription on replica A.
    await until(async () => (await openOnReplicaA()) === before);
    await alice.close();
  });

  it('answers NOT_FOUND for an unknown session, FORBIDDEN for another tenant’s or user’s, and never delivers an event', async () => {
    const alice = await client('demo-bank', 'alice');
    const unknown = await drain(alice.answerStream('00000000-0000-0000-0000-000000000000', { protocol }));
    expect(unknown).toEqual({ values: [], code: 'NOT_FOUND' });

    const foreigner = await client('demo-cn', 'wang');
    const foreignSession = await foreigner.startSession();
    expect(await drain(alice.answerStream(foreignSession.id, { protocol }))).toEqual({ values: [], code: 'FORBIDDEN' });

    const bobSession = await (await client('demo-bank', 'bob')).startSession();
    expect(await drain(alice.answerStream(bobSession.id, { protocol }))).toEqual({ values: [], code: 'FORBIDDEN' });
    await alice.close();
    await foreigner.close();
  });

  it('an open answerStream never delivers another tenant’s event on the same session id', async () => {
    const alice = await client('demo-bank', `alice-live-${protocol}`);
    const session = await alice.startSession();
    const stream = alice.answerStream(session.id, { protocol });
    const received: AnswerEvent[] = [];
    const reading = (async () => {
      for await (const event of stream) {
        received.push(event);
        if (event.answerId === 'own-2') break;
      }
    })();
    const event = (answerId: string): AnswerEventMessage => ({
      answerId,
      sessionId: session.id,
      seq: 1,
      kind: 'TOKEN',
      delta: 'x',
      queuePosition: null,
    });
    // Live first: an own event arrives (repeated until the subscription is in place upstream).
    await until(async () => {
      await bus.publishAnswerEvent('demo-bank', event('own-1'));
      return received.length > 0;
    });
    // The other tenant's event for the very same session id, then an own one: pub/sub keeps the order,
    // so a leaked event would arrive before own-2.
    await bus.publishAnswerEvent('demo-cn', event('leak'));
    await bus.publishAnswerEvent('demo-bank', event('own-2'));
    await reading;
    expect(received.map((e) => e.answerId).filter((id) => id !== 'own-1')).toEqual(['own-2']);
    await alice.close();
  });

  it('an open tenantActivity never delivers another tenant’s activity', async () => {
    const admin = await client('demo-bank', `boss-live-${protocol}`, 'admin');
    // No entity in the selection: a leaked event would resolve as well as an own one and show here.
    const activity = admin.subscribe<{ tenantActivity: { at: string } }, Record<string, never>>(
      { document: 'subscription { tenantActivity { kind at } }' },
      {},
      { protocol },
    );
    // Events told apart by their time stamps.
    const own1 = '2001-01-01T00:00:00.000Z';
    const leak = '2002-02-02T00:00:00.000Z';
    const own2 = '2003-03-03T00:00:00.000Z';
    const received: string[] = [];
    const reading = (async () => {
      for await (const event of activity) {
        received.push(event.tenantActivity.at);
        if (event.tenantActivity.at === own2) break;
      }
    })();
    const activityOf = (at: string) => ({ kind: 'SESSION_STARTED' as const, sessionId: 'activity-probe', answerId: null, at });
    await until(async () => {
      await bus.publishActivity('demo-bank', activityOf(own1));
      return received.length > 0;
    });
    await bus.publishActivity('demo-cn', activityOf(leak));
    await bus.publishActivity('demo-bank', activityOf(own2));
    await reading;
    expect(received.filter((at) => at !== own1)).toEqual([own2]);
    await admin.close();
  });

  it('tenantActivity is for admins (FORBIDDEN otherwise) and carries sessions and answers as entities', async () => {
    const customer = await client('demo-bank', 'carol');
    expect(await drain(customer.tenantActivity({ protocol }))).toEqual({ values: [], code: 'FORBIDDEN' });

    const admin = await client('demo-bank', 'boss', 'admin');
    const before = await openOnReplicaA();
    const activity = take(admin.tenantActivity({ protocol }), 2);
    await until(async () => (await openOnReplicaA()) === before + 1);
    const dave = await client('demo-bank', `dave-${protocol}`);
    const session = await dave.startSession();
    const answerId = await askOnReplicaB('demo-bank', `dave-${protocol}`, session.id, 'How do I activate my card?');
    const got = await activity;
    expect(got.map((e) => [e.kind, e.session.id, e.session.userId, e.answer?.id ?? null])).toEqual([
      ['SESSION_STARTED', session.id, `dave-${protocol}`, null],
      ['QUESTION_ASKED', session.id, `dave-${protocol}`, answerId],
    ]);
    expect(got[1]!.answer).toMatchObject({ status: 'QUEUED', question: 'How do I activate my card?' });
    await admin.close();
  });
});

describe('connections and lifecycle', () => {
  it('refuses a bad token: graphql-ws closes 4401, SSE answers 401', async () => {
    const bad = new BeedeskClient({ url: e2e.gatewayUrl, token: 'not-a-jwt', webSocketImpl: WebSocket });
    expect((await drain(bad.answerStream('s'))).code).toBe('UNAUTHENTICATED');
    const response = await fetch(e2e.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: 'Bearer not-a-jwt' },
      body: JSON.stringify({ query: 'subscription { tenantActivity { kind } }' }),
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
  });

  it.each(['graphql-ws', 'sse'] as SubscriptionProtocol[])('ends subscriptions when the token expires (%s)', async (protocol) => {
    const admin = await client('demo-bank', 'short-lived', 'admin', 3);
    const started = Date.now();
    const outcome = await drain(admin.tenantActivity({ protocol }));
    expect(outcome.code).toBe('UNAUTHENTICATED');
    expect(Date.now() - started).toBeGreaterThan(1000);
    await admin.close();
  });

  it('validates operations as graphql-js does: two root fields, unknown fields, missing variables', async () => {
    const alice = await client('demo-bank', 'alice');
    const codeOf = async (document: string, variables?: Record<string, unknown>) =>
      (await drain(alice.subscribe({ document }, variables))).code;
    expect(await codeOf('subscription { tenantActivity { kind } answerStream(sessionId: "x") { seq } }')).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(await codeOf('subscription { answerStream(sessionId: "x") { nope } }')).toBe('GRAPHQL_VALIDATION_FAILED');
    const missing = await drain(alice.subscribe({ document: 'subscription($s: ID!) { answerStream(sessionId: $s) { seq } }' }, {}));
    expect(missing).toEqual({ values: [], code: 'BAD_USER_INPUT' });
    await alice.close();
  });

  it('releases the upstream subscription at once when a client disconnects (graphql-ws socket closed, SSE request aborted)', async () => {
    const alice = await client('demo-bank', 'alice');
    const session = await alice.startSession();
    const before = await openOnReplicaA();
    const ws = alice.answerStream(session.id);
    void ws.next().catch(() => undefined);
    const sse = alice.answerStream(session.id, { protocol: 'sse' });
    void sse.next().catch(() => undefined);
    await until(async () => (await openOnReplicaA()) === before + 2);
    await alice.close(); // drops the WebSocket without unsubscribing
    await until(async () => (await openOnReplicaA()) === before + 1);
    await sse.return?.(); // aborts the SSE request
    await until(async () => (await openOnReplicaA()) === before);
  });

  it('holds 1,000 concurrent subscribers on one gateway with bounded memory, and delivers to all', async () => {
    const N = 1000;
    const gatewayPid = e2e.cluster.processes.get('gateway')!.child.pid!;
    const owner = await client('demo-bank', 'crowd');
    const session = await owner.startSession();
    const token = await mintToken({ tenant: 'demo-bank', user: 'crowd', roles: ['customer'], secret: E2E_JWT_SECRET });
    const rssBefore = rssKb(gatewayPid);
    const before = await openOnReplicaA();
    const clients = Array.from({ length: N }, () => new BeedeskClient({ url: e2e.gatewayUrl, token, webSocketImpl: WebSocket }));
    const firsts: Promise<IteratorResult<AnswerEvent>>[] = [];
    for (let i = 0; i < N; i += 100) {
      for (const c of clients.slice(i, i + 100)) firsts.push(c.answerStream(session.id).next());
      await until(async () => (await openOnReplicaA()) >= before + Math.min(i + 100, N), 30_000);
    }
    const rssOpen = rssKb(gatewayPid);
    await bus.publishAnswerEvent('demo-bank', {
      answerId: 'a-crowd',
      sessionId: session.id,
      seq: 0,
      kind: 'QUEUED',
      delta: null,
      queuePosition: 3,
    });
    const results = await Promise.all(firsts);
    expect(results.every((r) => !r.done && r.value.answerId === 'a-crowd' && r.value.queuePosition === 3)).toBe(true);
    await Promise.all(clients.map((c) => c.close()));
    await until(async () => (await openOnReplicaA()) === before, 30_000);
    const perSubscriberKb = (rssOpen - rssBefore) / N;
    process.stderr.write(`1,000 subscribers: gateway RSS ${rssBefore} kB → ${rssOpen} kB open (${perSubscriberKb.toFixed(1)} kB each)\n`);
    // Two WebSockets (client and upstream) per subscriber: a few tens of kB each, not megabytes.
    expect(rssOpen - rssBefore).toBeLessThan(200 * 1024);
    expect((await fetch(e2e.cluster.urlOf('gateway').replace('/graphql', '/health'))).status).toBe(200);
  }, 120_000);

  // Last: it kills replica A.
  it('ends the client’s subscription with SERVICE_UNAVAILABLE when the subgraph is killed mid-stream; the gateway stays healthy', async () => {
    const alice = await client('demo-bank', 'alice');
    const session = await alice.startSession();
    const before = await openOnReplicaA();
    const outcome = drain(alice.answerStream(session.id));
    await until(async () => (await openOnReplicaA()) === before + 1);
    await bus.publishAnswerEvent('demo-bank', {
      answerId: 'a-kill',
      sessionId: session.id,
      seq: 0,
      kind: 'QUEUED',
      delta: null,
      queuePosition: 0,
    });
    await until(() => false, 300).catch(() => undefined);
    await e2e.cluster.stop('answer', 'SIGKILL');
    const { values, code } = await outcome;
    expect(values.map((v) => v.answerId)).toEqual(['a-kill']);
    expect(code).toBe('SERVICE_UNAVAILABLE');
    expect((await fetch(e2e.cluster.urlOf('gateway').replace('/graphql', '/health'))).status).toBe(200);
    expect((await alice.startSession()).id).toBe(session.id);
    await alice.close();
  });
});
