import type { Role } from '@beedesk/runtime';
import { BeedeskClient } from '@beedesk/sdk';
import { createClient, type Client, type ExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { e2eEnvironment, e2ePort, postGraphQL } from '../harness/cluster';
import { metric, until } from '../harness/metrics';

// Issue 6 limits through two real gateway replicas sharing the real Redis.
const e2e = e2eEnvironment('limits', 15100);
const REPLICA_B_PORT = e2ePort(15109);
const urlA = e2e.gatewayUrl;
const urlB = `http://127.0.0.1:${REPLICA_B_PORT}/graphql`;

const RATE_TENANT = 'limits-rate';
/** Both replicas: small buckets and caps so the test reaches them quickly. */
const SHARED_LIMITS = {
  GATEWAY_RATE_LIMIT_TENANT_OVERRIDES: `${RATE_TENANT}=0.2:20`,
  GATEWAY_MAX_SUBSCRIPTIONS_PER_TENANT: '3',
  GATEWAY_MAX_SUBSCRIPTIONS_PER_CONNECTION: '2',
  CORS_ORIGINS: 'https://app.example.com',
};
// Replica A refuses past depth 3 (beedesk's schema is never deeper than 4); B keeps the defaults.

type ErrorBody = { message: string; extensions?: Record<string, unknown> };
const bearer = async (tenant: string, user: string, ...roles: Role[]) => ({
  authorization: `Bearer ${await e2e.token(tenant, user, ...roles)}`,
});

async function graphqlRequests(service: 'session' | 'tenant' | 'answer'): Promise<number> {
  const text = await (await fetch(e2e.cluster.urlOf(service).replace('/graphql', '/metrics'))).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('beedesk_http_requests_total{') && line.includes('route="/graphql"'))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

const openSubscriptions = (url: string) => metric(url, 'beedesk_gateway_open_subscriptions');

const sockets: Client[] = [];
function wsClient(url: string, authorization: string): Client {
  const client = createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization },
    retryAttempts: 0,
    lazy: false,
  });
  sockets.push(client);
  return client;
}

/** One subscription on a graphql-ws client: what it received, whether it ended, and how to stop it. */
function subscribe(client: Client, query: string, variables: Record<string, unknown>) {
  const state = { results: [] as ExecutionResult[], errors: [] as ErrorBody[], completed: false, stop: () => undefined as void };
  state.stop = client.subscribe(
    { query, variables },
    {
      next: (result) => void state.results.push(result as ExecutionResult),
      error: (error) => {
        state.errors.push(...(Array.isArray(error) ? (error as ErrorBody[]) : [{ message: String(error) }]));
        state.completed = true;
      },
      complete: () => void (state.completed = true),
    },
  );
  return state;
}
const ANSWER_STREAM = 'subscription($s: ID!) { answerStream(sessionId: $s) { seq kind } }';
const codeOf = (sub: ReturnType<typeof subscribe>) =>
  (sub.results[0]?.errors?.[0] as ErrorBody | undefined)?.extensions ?? sub.errors[0]?.extensions;

beforeAll(async () => {
  for (const name of ['tenant', 'session', 'answer'] as const) await e2e.cluster.start(name);
  await e2e.cluster.start('gateway', { ...SHARED_LIMITS, GATEWAY_MAX_DEPTH: '3' });
  await e2e.cluster.start('gateway', SHARED_LIMITS, { instance: 'gateway-b', port: REPLICA_B_PORT });
});

afterAll(async () => {
  for (const socket of sockets) await socket.dispose();
  await e2e.cluster.stopAll();
});

describe('depth and cost', () => {
  it('refuses a query deeper than the limit, with the measured depth and the limit', async () => {
    const headers = await bearer('limits-depth', 'u1', 'agent');
    const deep = await postGraphQL(urlA, { query: '{ answer(id: "a1") { session { turns { seq } } } }' }, headers);
    expect(deep.status).toBe(400);
    expect(deep.body.errors).toEqual([expect.objectContaining({ extensions: { code: 'DEPTH_LIMIT_EXCEEDED', depth: 4, maxDepth: 3 } })]);
    // The same over SSE and graphql-ws, before any subscription starts.
    const sse = await fetch(urlA, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: 'subscription { answerStream(sessionId: "s1") { answer { session { id } } } }' }),
    });
    expect(sse.status).toBe(400);
    expect(((await sse.json()) as { errors: ErrorBody[] }).errors[0]?.extensions?.code).toBe('DEPTH_LIMIT_EXCEEDED');
    const ws = subscribe(
      wsClient(urlA, headers.authorization),
      'subscription { answerStream(sessionId: "s1") { answer { session { id } } } }',
      {},
    );
    await until(async () => ws.completed);
    expect(ws.errors[0]?.extensions).toMatchObject({ code: 'DEPTH_LIMIT_EXCEEDED', depth: 4 });
    // Within the limit: served.
    expect((await postGraphQL(urlA, { query: '{ answer(id: "a1") { session { id } } }' }, headers)).status).toBe(200);
  });

  it('refuses 1,600 aliased `turns` before any subgraph is called', async () => {
    const customer = new BeedeskClient({ url: urlB, token: await e2e.token('limits-cost', 'carol', 'customer') });
    const session = await customer.startSession();
    const headers = await bearer('limits-cost', 'carol', 'customer');
    const aliases = Array.from({ length: 1600 }, (_, i) => `t${i}: turns { seq }`).join(' ');
    const before = await graphqlRequests('session');
    for (const url of [urlA, urlB]) {
      const refused = await postGraphQL(
        url,
        { query: `query($id: ID!) { session(id: $id) { ${aliases} } }`, variables: { id: session.id } },
        headers,
      );
      expect(refused.status).toBe(400);
      expect(refused.body.errors).toEqual([
        expect.objectContaining({ extensions: { code: 'COST_LIMIT_EXCEEDED', cost: 1 + 1600 * 100, maxCost: 5000 } }),
      ]);
    }
    expect(await graphqlRequests('session')).toBe(before);
    // A sensible read of the same session is served (and does reach the session subgraph).
    const fine = await postGraphQL(
      urlA,
      { query: 'query($id: ID!) { session(id: $id) { turns(last: 5) { seq } } }', variables: { id: session.id } },
      headers,
    );
    expect(fine.status).toBe(200);
    expect(await graphqlRequests('session')).toBeGreaterThan(before);
  });

  it('counts list sizes from the variables: the same document passes or not', async () => {
    const headers = await bearer('limits-cost', 'dan', 'customer');
    const customer = new BeedeskClient({ url: urlB, token: await e2e.token('limits-cost', 'dan', 'customer') });
    const session = await customer.startSession();
    const query = 'query($id: ID!, $n: Int) { session(id: $id) { a: turns(last: $n) { seq } b: turns(last: $n) { text } } }';
    expect((await postGraphQL(urlB, { query, variables: { id: session.id, n: 10 } }, headers)).status).toBe(200);
    const refused = await postGraphQL(urlB, { query, variables: { id: session.id, n: 3000 } }, headers);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'COST_LIMIT_EXCEEDED', cost: 1 + 2 * 3000 });
  });

  it('every SDK operation passes the default limits (replica B) through the real gateway', async () => {
    const admin = new BeedeskClient({ url: urlB, token: await e2e.token('limits-sdk', 'root', 'admin') });
    await admin.upsertArticle({ id: 'pin', title: 'PIN reset', body: 'Reset it in the app.', questions: ['reset my pin'] });
    expect((await admin.tenantWithArticles()).articles.map((a) => a.id)).toEqual(['pin']);
    const session = await admin.startSession();
    const { answer } = await admin.ask(session.id, 'how do I reset my pin?');
    expect((await admin.answer(answer.id))?.id).toBe(answer.id);
    expect((await admin.session(session.id))?.turns.length).toBeGreaterThan(0);
    expect(await admin.deleteArticle('pin')).toBe(true);
  });
});

describe('rate limits shared by the replicas', () => {
  it('admits the burst over both replicas together, then 429 with Retry-After; other tenants are unaffected', async () => {
    const headers = await bearer(RATE_TENANT, 'u1', 'customer');
    const statuses: { replica: 'A' | 'B'; status: number; retryAfter: string | null; body: { errors?: ErrorBody[] } }[] = [];
    for (let i = 0; i < 30; i++) {
      const replica = i % 2 === 0 ? 'A' : 'B';
      const response = await fetch(replica === 'A' ? urlA : urlB, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: '{"query":"{ __typename }"}',
      });
      statuses.push({
        replica,
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        body: (await response.json()) as { errors?: ErrorBody[] },
      });
    }
    const admitted = statuses.filter((s) => s.status === 200).length;
    // The bucket holds 20 and refills 0.2/s: the 30 requests (well under 5 s) get 20, at most 21.
    expect(admitted).toBeGreaterThanOrEqual(20);
    expect(admitted).toBeLessThanOrEqual(21);
    const refused = statuses.filter((s) => s.status === 429);
    expect(refused.length).toBe(30 - admitted);
    expect(new Set(refused.map((s) => s.replica))).toEqual(new Set(['A', 'B']));
    for (const r of refused) {
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(r.body.errors?.[0]?.extensions).toMatchObject({
        code: 'RATE_LIMITED',
        retryAfterSeconds: Number(r.retryAfter),
        scope: 'tenant',
      });
    }
    // A subscribe is a request too: graphql-ws answers it with the same error.
    const ws = subscribe(wsClient(urlB, headers.authorization), ANSWER_STREAM, { s: 'any' });
    await until(async () => ws.completed);
    expect(ws.errors[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    // Another tenant has its own bucket.
    expect((await postGraphQL(urlA, { query: '{ __typename }' }, await bearer('limits-other', 'u1', 'customer'))).status).toBe(200);
  });
});

describe('subscription caps', () => {
  it('per connection: the third subscription on one socket is refused; ending one frees its place', async () => {
    const token = await e2e.token('limits-conn', 'erin', 'customer');
    const session = await new BeedeskClient({ url: urlA, token }).startSession();
    const baseline = await openSubscriptions(urlA);
    const socket = wsClient(urlA, `Bearer ${token}`);
    const first = subscribe(socket, ANSWER_STREAM, { s: session.id });
    subscribe(socket, ANSWER_STREAM, { s: session.id });
    await until(async () => (await openSubscriptions(urlA)) === baseline + 2);
    const third = subscribe(socket, ANSWER_STREAM, { s: session.id });
    await until(async () => third.completed);
    expect(codeOf(third)).toEqual({ code: 'SUBSCRIPTION_LIMIT_REACHED', scope: 'connection', limit: 2 });
    first.stop();
    await until(async () => (await openSubscriptions(urlA)) === baseline + 1);
    const again = subscribe(socket, ANSWER_STREAM, { s: session.id });
    await until(async () => (await openSubscriptions(urlA)) === baseline + 2);
    expect(again.completed).toBe(false);
    await socket.dispose();
    await until(async () => (await openSubscriptions(urlA)) === baseline);
  });

  it('per tenant across replicas, over graphql-ws and SSE; a closed socket gives its places back', async () => {
    const token = await e2e.token('limits-tenant', 'fay', 'customer');
    const session = await new BeedeskClient({ url: urlA, token }).startSession();
    const onA = wsClient(urlA, `Bearer ${token}`);
    const onB = wsClient(urlB, `Bearer ${token}`);
    const [a, b] = [await openSubscriptions(urlA), await openSubscriptions(urlB)];
    subscribe(onA, ANSWER_STREAM, { s: session.id });
    subscribe(onA, ANSWER_STREAM, { s: session.id });
    subscribe(onB, ANSWER_STREAM, { s: session.id });
    await until(async () => (await openSubscriptions(urlA)) === a + 2 && (await openSubscriptions(urlB)) === b + 1);

    const fourth = subscribe(onB, ANSWER_STREAM, { s: session.id });
    await until(async () => fourth.completed);
    expect(codeOf(fourth)).toEqual({ code: 'SUBSCRIPTION_LIMIT_REACHED', scope: 'tenant', limit: 3 });
    const sse = await fetch(urlA, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: ANSWER_STREAM, variables: { s: session.id } }),
    });
    const stream = await sse.text(); // one result, then complete
    expect(stream).toContain('SUBSCRIPTION_LIMIT_REACHED');
    expect(stream).toContain('event: complete');

    await onA.dispose();
    await until(async () => (await openSubscriptions(urlA)) === a);
    const afterClose = subscribe(onB, ANSWER_STREAM, { s: session.id });
    await until(async () => (await openSubscriptions(urlB)) === b + 2);
    expect(afterClose.completed).toBe(false);
  });
});

describe('CORS and introspection', () => {
  it('answers the allowed origin’s preflight, refuses others, and marks responses', async () => {
    const preflight = (origin: string) =>
      fetch(urlA, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
      });
    const allowed = await preflight('https://app.example.com');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(allowed.headers.get('access-control-allow-headers')).toBe('authorization, content-type, x-api-key, x-request-id');
    expect(allowed.headers.get('vary')).toContain('Origin');
    expect((await preflight('https://elsewhere.example.com')).status).toBe(403);
    const actual = await fetch(urlB, {
      method: 'POST',
      headers: { ...(await bearer('limits-cors', 'u1')), origin: 'https://app.example.com', 'content-type': 'application/json' },
      body: '{"query":"{ __typename }"}',
    });
    expect(actual.status).toBe(200);
    expect(actual.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(actual.headers.get('access-control-expose-headers')).toContain('retry-after');
  });

  it('refuses introspection outside development (also __type); __typename is fine', async () => {
    const headers = await bearer('limits-intro', 'u1', 'admin');
    for (const query of ['{ __schema { types { name } } }', '{ __type(name: "Session") { name } }']) {
      const refused = await postGraphQL(urlA, { query }, headers);
      expect(refused.status).toBe(400);
      expect(refused.body.errors?.[0]?.extensions?.code).toBe('INTROSPECTION_DISABLED');
    }
    expect((await postGraphQL(urlA, { query: '{ __typename }' }, headers)).body).toEqual({ data: { __typename: 'Query' } });
  });
});
