import pino from 'pino';
import WebSocket from 'ws';
import { createInMemoryRedis, createInProcessEventBus, type AnswerEventMessage, type StartedService } from '@beedesk/runtime';
import { AnswerRepository } from '@beedesk/answer/data';
import { readSupergraph } from '@beedesk/schema';
import { BeedeskClient, BeedeskError, type AnswerEvent } from '@beedesk/sdk';
import { createAuthenticator } from '../auth';
import { mintToken } from '../dev-tokens';
import { startGateway } from '../server';
import { startInProcessSubgraphs } from '../__tests__/in-process-subgraphs';

// Federated subscriptions through the real gateway over the embedded default's in-process event
// bus and in-memory Redis: fast checks of shaping, ordering and errors for both client protocols.
const SECRET = 'subscriptions-unit-jwt-secret';
const INTERNAL = 'subscriptions-unit-internal-secret';
const logger = pino({ level: 'silent' });
const redis = createInMemoryRedis();
const events = createInProcessEventBus('bd', logger);
const started: StartedService[] = [];
let gatewayUrl = '';

const client = async (tenant: string, user: string, role: 'customer' | 'admin' = 'customer') =>
  new BeedeskClient({
    url: gatewayUrl,
    token: await mintToken({ tenant, user, roles: [role], secret: SECRET }),
    webSocketImpl: WebSocket,
  });

beforeAll(async () => {
  const { tenant, session, answer } = await startInProcessSubgraphs({ redis, events, keyPrefix: 'bd', internalSecret: INTERNAL, logger });
  started.push(tenant, session, answer);
  const ports: Record<string, number> = { tenant: tenant.port, session: session.port, answer: answer.port, inference: 1 };
  const gateway = await startGateway({
    supergraphSdl: readSupergraph(),
    mode: { kind: 'beedesk', authenticate: createAuthenticator({ secret: SECRET, clockToleranceSeconds: 0 }) },
    internalSecret: INTERNAL,
    redis,
    keyPrefix: 'bd',
    logger,
    host: '127.0.0.1',
    port: 0,
    maxBodyBytes: 1 << 20,
    subgraphTimeoutMs: 5000,
    urlOverride: (name) => `http://127.0.0.1:${ports[name]}/graphql`,
    defaultMetrics: false,
  });
  started.push(gateway);
  gatewayUrl = `http://127.0.0.1:${gateway.port}/graphql`;
  const admin = await client('bank', 'admin-1', 'admin');
  await admin.updateTenant('Bank');
  await admin.upsertArticle({ id: 'card', title: 'Card delivery', body: 'Cards arrive in 5 days.' });
}, 30_000);

afterAll(async () => {
  for (const service of started.reverse()) await service.close();
  await events.close();
  redis.disconnect();
});

const take = async <T>(iterator: AsyncIterableIterator<T>, n: number): Promise<T[]> => {
  const out: T[] = [];
  for (let i = 0; i < n; i++) {
    const step = await iterator.next();
    if (step.done) break;
    out.push(step.value);
  }
  await iterator.return?.();
  return out;
};

const until = async (check: () => boolean, timeoutMs = 3000) => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

async function answerDone(tenantId: string, answerId: string, sessionId: string, seq: number): Promise<AnswerEventMessage> {
  const answers = new AnswerRepository(redis, 'bd');
  const record = await answers.get(tenantId, answerId);
  await answers.complete(
    tenantId,
    record!,
    { text: 'Cards arrive in 5 days.', status: 'DONE', sourceIds: ['card'], confidence: 0.9, needsHuman: false, engine: 'test' },
    () => undefined,
  );
  return { answerId, sessionId, seq, kind: 'DONE', delta: null, queuePosition: null };
}

describe.each(['graphql-ws', 'sse'] as const)('answerStream over %s', (protocol) => {
  it('delivers QUEUED, TOKENs and DONE in order, with source titles from the tenant subgraph', async () => {
    const alice = await client('bank', `alice-${protocol}`);
    const session = await alice.startSession();
    const stream = alice.answerStream(session.id, { protocol });
    const received = take(stream, 4);
    await until(() => events.openStreams > 0);
    const { answer } = await alice.ask(session.id, 'Where is my card?');
    for (const [seq, delta] of [
      [1, 'Cards '],
      [2, 'arrive.'],
    ] as const) {
      await events.publishAnswerEvent('bank', {
        answerId: answer.id,
        sessionId: session.id,
        seq,
        kind: 'TOKEN',
        delta,
        queuePosition: null,
      });
    }
    await events.publishAnswerEvent('bank', await answerDone('bank', answer.id, session.id, 3));
    const got: AnswerEvent[] = await received;
    expect(got.map((e) => [e.seq, e.kind, e.delta])).toEqual([
      [0, 'QUEUED', null],
      [1, 'TOKEN', 'Cards '],
      [2, 'TOKEN', 'arrive.'],
      [3, 'DONE', null],
    ]);
    expect(got[0]!.queuePosition).toBe(0);
    expect(got[0]!.answer?.status).toBe('QUEUED');
    expect(got[1]!.answer).toBeNull();
    expect(got[3]!.answer).toMatchObject({ id: answer.id, status: 'DONE', sources: [{ id: 'card', title: 'Card delivery' }] });
    await until(() => events.openStreams === 0);
  });

  it('answers NOT_FOUND for an unknown session and FORBIDDEN for another tenant’s', async () => {
    const alice = await client('bank', 'alice');
    const codeOf = async (iterator: AsyncIterableIterator<unknown>) =>
      iterator.next().then(
        () => 'NO_ERROR',
        (e: unknown) => (e as BeedeskError).code,
      );
    expect(await codeOf(alice.answerStream('00000000-0000-0000-0000-000000000000', { protocol }))).toBe('NOT_FOUND');
    const other = await client('shop', 'mallory');
    const foreign = await other.startSession();
    expect(await codeOf(alice.answerStream(foreign.id, { protocol }))).toBe('FORBIDDEN');
    await alice.close();
  });
});

it('shapes aliases, __typename and fragments like a query result', async () => {
  const alice = await client('bank', 'alice-shape');
  const session = await alice.startSession();
  const stream = alice.subscribe<
    { e: { __typename: string; n: number; a: { t: string; src: { __typename: string; title: string }[] } | null } },
    { s: string }
  >(
    {
      document: `subscription($s: ID!) { e: answerStream(sessionId: $s) { __typename n: seq ... on AnswerEvent { a: answer { t: status ...F } } } }
                 fragment F on Answer { src: sources { __typename title } }`,
    },
    { s: session.id },
  );
  const first = take(stream, 1);
  await until(() => events.openStreams > 0);
  await alice.ask(session.id, 'card?');
  expect(await first).toEqual([{ e: { __typename: 'AnswerEvent', n: 0, a: { t: 'QUEUED', src: [] } } }]);
  await alice.close();
});

describe('objects gone between the event and its delivery', () => {
  it.each(['graphql-ws', 'sse'] as const)(
    'skips a tenantActivity event whose session is gone, and the stream goes on (%s)',
    async (protocol) => {
      const admin = await client('bank', `activity-admin-${protocol}`, 'admin');
      const stream = admin.tenantActivity({ protocol });
      let delivered: IteratorResult<unknown> | null = null;
      void stream.next().then((step) => (delivered = step));
      const visitors: string[] = [];
      // Until the subscription is live: each round a SESSION_STARTED of a session erased before the
      // gateway resolved it (its Session entity is null), then one of a real session.
      for (let round = 0; !delivered && round < 50; round++) {
        await events.publishActivity('bank', {
          kind: 'SESSION_STARTED',
          sessionId: 'se0000000000_00000000-0000-0000-0000-000000000000',
          answerId: null,
          at: new Date().toISOString(),
        });
        const visitor = await client('bank', `activity-visitor-${protocol}-${round}`);
        await visitor.startSession();
        visitors.push(`activity-visitor-${protocol}-${round}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(delivered).toMatchObject({ done: false, value: { kind: 'SESSION_STARTED', session: { userId: expect.any(String) } } });
      expect(visitors).toContain((delivered as unknown as { value: { session: { userId: string } } }).value.session.userId);
      await stream.return?.();
      await admin.close();
    },
    15_000,
  );
});
