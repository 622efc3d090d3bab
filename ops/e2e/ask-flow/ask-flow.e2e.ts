import { BeedeskClient, type AnswerEvent } from '@beedesk/sdk';
import WebSocket from 'ws';
import { seedDemoTenants } from '../../src/demo/seed';
import { demoBank } from '../../src/demo/data';
import { e2eEnvironment, E2E_INTERNAL_SECRET, E2E_JWT_SECRET, postGraphQL } from '../harness/cluster';
import { signContext } from '@beedesk/runtime';
import { mintToken } from '@beedesk/gateway';
import { codeOf } from '../harness/error-code';

// The acceptance flow through the real gateway, with real Redis and a real Kafka broker,
// each service its own process.
const e2e = e2eEnvironment('askflow', 14100);
let alice: BeedeskClient;
let aliceToken: string;

beforeAll(async () => {
  await e2e.cluster.startAll();
  // Seeding goes through the gateway as an admin, like `npm start` does.
  await seedDemoTenants(e2e.gatewayUrl, { tenants: [demoBank()], jwtSecret: E2E_JWT_SECRET });
  aliceToken = await e2e.token('demo-bank', 'alice', 'customer');
  alice = e2e.client(aliceToken);
}, 120_000);

afterAll(async () => {
  await e2e.cluster.stopAll();
});

describe('ask flow through the gateway (real Redis and Kafka)', () => {
  it('answers a card question from the card-arrival article and keeps both turns', async () => {
    const session = await alice.startSession();
    expect(session.status).toBe('ACTIVE');
    const receipt = await alice.ask(session.id, "I still haven't received my new card");
    expect(receipt.answer.status).toBe('QUEUED');
    expect(receipt.queuePosition).toBeGreaterThanOrEqual(0);

    const answer = await alice.waitForAnswer(receipt.answer.id, { timeoutMs: 30_000 });
    expect(answer.status).toBe('DONE');
    expect(answer.needsHuman).toBe(false);
    expect(answer.sources[0]).toEqual({ id: 'bank-card-arrival', title: 'My new card has not arrived yet' });
    expect(answer.text).toMatch(/card/i);

    const withTurns = await alice.session(session.id);
    expect(withTurns?.turns.map((t) => [t.seq, t.role, t.text])).toEqual([
      [1, 'USER', "I still haven't received my new card"],
      [2, 'ASSISTANT', answer.text],
    ]);

    // Within 30 minutes the same session continues.
    expect((await alice.startSession()).id).toBe(session.id);
  });

  it('keeps sessions per user: another customer gets their own and may not read alice’s', async () => {
    const aliceSession = await alice.startSession();
    const bob = e2e.client(await e2e.token('demo-bank', 'bob', 'customer'));
    expect((await bob.startSession()).id).not.toBe(aliceSession.id);
    expect(await codeOf(bob.session(aliceSession.id))).toBe('FORBIDDEN');
    expect(await codeOf(bob.ask(aliceSession.id, 'hello'))).toBe('FORBIDDEN');
    const agent = e2e.client(await e2e.token('demo-bank', 'agent-1', 'agent'));
    expect((await agent.session(aliceSession.id))?.userId).toBe('alice');
  });

  it.each(['graphql-ws', 'sse'] as const)(
    'streams the real worker’s answer through the gateway over %s, sources resolved by the tenant subgraph',
    async (protocol) => {
      const client = new BeedeskClient({
        url: e2e.gatewayUrl,
        token: aliceToken,
        webSocketImpl: WebSocket,
        subscriptionProtocol: protocol,
      });
      const session = await client.startSession();
      const stream = client.answerStream(session.id);
      const events: AnswerEvent[] = [];
      const collected = (async () => {
        for await (const event of stream) {
          events.push(event);
          if (['DONE', 'FALLBACK', 'ERROR'].includes(event.kind)) break;
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 500)); // the subscription is live
      const receipt = await client.ask(session.id, 'My card still has not arrived, where is it?');
      await collected;
      await client.close();
      expect(events.every((e) => e.answerId === receipt.answer.id)).toBe(true);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
      expect(events[0]).toMatchObject({ kind: 'QUEUED', seq: 0 });
      expect(events.slice(1, -1).every((e) => e.kind === 'TOKEN')).toBe(true);
      const done = events[events.length - 1]!;
      expect(done.kind).toBe('DONE');
      expect(
        events
          .slice(1, -1)
          .map((e) => e.delta)
          .join(''),
      ).toBe(done.answer?.text);
      expect(done.answer?.sources[0]?.title).toBe('My new card has not arrived yet');
    },
  );

  it('answers NOT_FOUND for an unknown session id, also across tenants', async () => {
    expect(await codeOf(alice.session('00000000-0000-0000-0000-000000000000'))).toBe('NOT_FOUND');
    expect(await codeOf(alice.ask('no-such-session', 'hello'))).toBe('NOT_FOUND');
    const aliceSession = await alice.startSession();
    const other = e2e.client(await e2e.token('demo-cn', 'alice', 'admin'));
    expect(await codeOf(other.session(aliceSession.id))).toBe('NOT_FOUND');
  });

  it('refuses empty and 10 MB questions with BAD_USER_INPUT and enqueues nothing', async () => {
    const session = await alice.startSession();
    const before = await e2e.producedMessages();
    expect(await codeOf(alice.ask(session.id, ''))).toBe('BAD_USER_INPUT');
    expect(await codeOf(alice.ask(session.id, '   \n '))).toBe('BAD_USER_INPUT');
    expect(await codeOf(alice.ask(session.id, 'x'.repeat(10 * 1024 * 1024)))).toBe('BAD_USER_INPUT');
    expect(await e2e.producedMessages()).toBe(before);
    expect((await alice.session(session.id))?.turns.filter((t) => t.text === '').length).toBe(0);
  });

  it('is idempotent per clientMessageId: one answer, one Kafka message', async () => {
    const session = await alice.startSession();
    const before = await e2e.producedMessages();
    const first = await alice.ask(session.id, 'How do I activate my card?', 'msg-1');
    const second = await alice.ask(session.id, 'How do I activate my card?', 'msg-1');
    expect(second.answer.id).toBe(first.answer.id);
    expect(await e2e.producedMessages()).toBe(before + 1);
  });

  it('refuses a missing, malformed, expired or foreign-signed token with UNAUTHENTICATED (401)', async () => {
    const query = { query: '{ tenant { id } }' };
    const cases: Record<string, string>[] = [
      {},
      { authorization: 'Bearer not-a-jwt' },
      { authorization: 'Basic abc' },
      {
        authorization: `Bearer ${await mintToken({ tenant: 'demo-bank', user: 'a', roles: ['admin'], secret: 'some-other-secret-123456' })}`,
      },
      {
        authorization: `Bearer ${await mintToken({ tenant: 'demo-bank', user: 'a', roles: ['admin'], secret: E2E_JWT_SECRET, ttlSeconds: -120 })}`,
      },
    ];
    for (const headers of cases) {
      const { status, body } = await postGraphQL(e2e.gatewayUrl, query, headers);
      expect(status).toBe(401);
      expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(body.data).toBeUndefined();
    }
    const ok = await postGraphQL(e2e.gatewayUrl, query, { authorization: `Bearer ${aliceToken}` });
    expect(ok.body).toEqual({ data: { tenant: { id: 'demo-bank' } } });
  });

  it('subgraphs refuse direct calls without the gateway’s signature', async () => {
    const direct = e2e.cluster.urlOf('session');
    const query = { query: '{ _entities(representations: [{__typename: "Session", id: "x"}]) { ... on Session { id } } }' };
    const unsigned = await postGraphQL(direct, query);
    expect(unsigned.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const forged = signContext({ tenantId: 'demo-bank', userId: 'x', roles: ['admin'], requestId: 'r' }, 'not-the-internal-secret!!');
    const wrongKey = await postGraphQL(direct, query, { 'x-beedesk-context': forged });
    expect(wrongKey.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const signed = signContext({ tenantId: 'demo-bank', userId: 'x', roles: ['admin'], requestId: 'r' }, E2E_INTERNAL_SECRET);
    const ok = await postGraphQL(direct, query, { 'x-beedesk-context': signed });
    expect(ok.body).toEqual({ data: { _entities: [null] } });
  });

  it('reports bad GraphQL with stable codes and stays healthy', async () => {
    const auth = { authorization: `Bearer ${aliceToken}` };
    expect((await postGraphQL(e2e.gatewayUrl, { query: '{ tenant { ' }, auth)).body.errors?.[0]?.extensions?.code).toBe(
      'GRAPHQL_PARSE_FAILED',
    );
    expect((await postGraphQL(e2e.gatewayUrl, { query: '{ nope }' }, auth)).body.errors?.[0]?.extensions?.code).toBe(
      'GRAPHQL_VALIDATION_FAILED',
    );
    expect((await postGraphQL(e2e.gatewayUrl, '{"query": ', auth)).body.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    const health = await fetch(e2e.gatewayUrl.replace('/graphql', '/health'));
    expect(health.status).toBe(200);
    const metrics = await (await fetch(e2e.gatewayUrl.replace('/graphql', '/metrics'))).text();
    expect(metrics).toContain('beedesk_http_requests_total');
  });
});
