import { once } from 'node:events';
import Redis from 'ioredis';
import WebSocket from 'ws';
import { tenantKeys, type Role } from '@beedesk/runtime';
import { mintSessionId } from '@beedesk/session/data';
import { BeedeskClient, BeedeskError, type SubscriptionProtocol } from '@beedesk/sdk';
import { mintToken } from '@beedesk/gateway';
import { e2eEnvironment, e2ePort, E2E_INTERNAL_SECRET, E2E_JWT_SECRET, postGraphQL } from '../harness/cluster';
import { metric, until } from '../harness/metrics';

// Issue 11, points 7, 9 and 10: fair shares between the users of one tenant, distinct keys for
// distinct user ids, and subscriptions that end with their credentials. Two gateway replicas share
// the real Redis, so every per-user count holds across replicas.
const e2e = e2eEnvironment('fairness', 15940);
const REPLICA_B_PORT = e2ePort(15949);
const urlA = e2e.gatewayUrl;
const urlB = `http://127.0.0.1:${REPLICA_B_PORT}/graphql`;
const CLOCK_TOLERANCE_SECONDS = 5;
const LIMITS = {
  GATEWAY_RATE_LIMIT_USER: '0.5:10',
  GATEWAY_MAX_SOCKETS_PER_USER: '3',
  GATEWAY_MAX_SUBSCRIPTIONS_PER_USER: '2',
  GATEWAY_MAX_SUBSCRIPTIONS_PER_TENANT: '6',
  JWT_CLOCK_TOLERANCE_SECONDS: String(CLOCK_TOLERANCE_SECONDS),
};
let redis: Redis;
/** How user ids were encoded in keys before the encoding became injective (variable-width hex). */
const legacyKeyPart = (id: string) => id.replace(/[^A-Za-z0-9._@-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

beforeAll(async () => {
  for (const name of ['tenant', 'session', 'answer'] as const) await e2e.cluster.start(name);
  await e2e.cluster.start('gateway', LIMITS);
  await e2e.cluster.start('gateway', LIMITS, { instance: 'gateway-b', port: REPLICA_B_PORT });
  redis = new Redis(e2e.env.REDIS_URL!);
}, 120_000);

const rawSockets: WebSocket[] = [];
afterAll(async () => {
  for (const socket of rawSockets) socket.terminate();
  redis?.disconnect();
  await e2e.cluster.stopAll();
});

const token = (tenant: string, user: string, roles: Role[] = ['customer'], ttlSeconds?: number) =>
  mintToken({ tenant, user, roles, secret: E2E_JWT_SECRET, ttlSeconds });
const client = async (url: string, tenant: string, user: string, roles: Role[] = ['customer'], ttlSeconds?: number) =>
  new BeedeskClient({ url, token: await token(tenant, user, roles, ttlSeconds), webSocketImpl: WebSocket });

/** A raw graphql-ws socket: acknowledged, or closed with a code at connection_init. */
async function openSocket(url: string, authorization: string) {
  const ws = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  rawSockets.push(ws);
  const messages: { id?: string; type: string; payload?: unknown }[] = [];
  ws.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString()) as (typeof messages)[number]));
  const closed = new Promise<number>((resolve) => ws.on('close', (code: number) => resolve(code)));
  await once(ws, 'open');
  ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization } }));
  const acked = until(() => messages.some((m) => m.type === 'connection_ack'), 10_000, 'connection_ack').then(() => 'ack' as const);
  const outcome = await Promise.race([acked, closed]);
  let seq = 0;
  return {
    ws,
    outcome,
    closed,
    /** Starts a subscription; resolves with the code that refused it, or null while it is live after `settleMs`. */
    async subscribe(query: string, variables: Record<string, unknown> = {}, settleMs = 400): Promise<string | null> {
      const id = String(++seq);
      ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } }));
      const deadline = Date.now() + settleMs;
      while (Date.now() < deadline) {
        const refused = messages.find((m) => m.id === id && (m.type === 'error' || m.type === 'next'));
        if (refused) {
          const errors = (refused.type === 'error' ? refused.payload : (refused.payload as { errors?: unknown }).errors) as
            { extensions?: { code?: string } }[] | undefined;
          if (errors?.length) return errors[0]?.extensions?.code ?? 'UNKNOWN';
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      return null;
    },
  };
}

/** Follows a subscription: what it delivered, and the code and time it ended with. */
function follow<T>(iterator: AsyncIterableIterator<T>) {
  const state = { values: [] as T[], code: null as string | null, ended: false, endedAt: 0 };
  const done = (async () => {
    try {
      for await (const value of iterator) state.values.push(value);
    } catch (error) {
      state.code = error instanceof BeedeskError ? error.code : String(error);
    }
    state.ended = true;
    state.endedAt = Date.now();
  })();
  return { state, done, stop: () => void iterator.return?.() };
}

const openSubscriptions = async () =>
  (await metric(urlA, 'beedesk_gateway_open_subscriptions')) + (await metric(urlB, 'beedesk_gateway_open_subscriptions'));
const ANSWER_STREAM = 'subscription($s: ID!) { answerStream(sessionId: $s) { seq } }';

describe('fair shares inside a tenant (per user, across replicas)', () => {
  it('one customer with many sockets and subscriptions cannot lock another user of the tenant out', async () => {
    const tenant = 'fair-subs';
    const mallory = await client(urlA, tenant, 'mallory');
    const session = await mallory.startSession();
    const malloryAuth = `Bearer ${await token(tenant, 'mallory')}`;
    const before = await openSubscriptions();
    // Three sockets over both replicas, two subscriptions tried on each: six would fill the tenant's cap.
    const sockets = [await openSocket(urlA, malloryAuth), await openSocket(urlB, malloryAuth), await openSocket(urlA, malloryAuth)];
    expect(sockets.map((s) => s.outcome)).toEqual(['ack', 'ack', 'ack']);
    const codes: (string | null)[] = [];
    for (const socket of sockets) for (let i = 0; i < 2; i++) codes.push(await socket.subscribe(ANSWER_STREAM, { s: session.id }));
    expect(codes.filter((c) => c === null)).toHaveLength(2);
    expect(codes.filter((c) => c !== null)).toEqual([
      'SUBSCRIPTION_LIMIT_REACHED',
      'SUBSCRIPTION_LIMIT_REACHED',
      'SUBSCRIPTION_LIMIT_REACHED',
      'SUBSCRIPTION_LIMIT_REACHED',
    ]);
    await until(async () => (await openSubscriptions()) === before + 2);
    // Over SSE too: the user's count is the same one.
    const sse = follow(mallory.answerStream(session.id, { protocol: 'sse' }));
    await sse.done;
    expect(sse.state.code).toBe('SUBSCRIPTION_LIMIT_REACHED');

    // Alice, same tenant, is served on both replicas and over both protocols.
    const alice = await client(urlB, tenant, 'alice');
    const aliceSession = await alice.startSession();
    for (const url of [urlA, urlB]) {
      const socket = await openSocket(url, `Bearer ${await token(tenant, 'alice')}`);
      expect(socket.outcome).toBe('ack');
      expect(await socket.subscribe(ANSWER_STREAM, { s: aliceSession.id })).toBeNull();
      socket.ws.close();
      await until(async () => (await openSubscriptions()) === before + 2);
    }
    const aliceSse = follow(alice.answerStream(aliceSession.id, { protocol: 'sse' }));
    await until(async () => (await openSubscriptions()) === before + 3);
    aliceSse.stop();
    await alice.close();
    for (const socket of sockets) socket.ws.close();
    await until(async () => (await openSubscriptions()) === before);
  });

  it('counts a user’s open WebSockets, idle ones included, over both replicas; closes the extra one 4430 and frees a place however a socket ends', async () => {
    const tenant = 'fair-sockets';
    const auth = `Bearer ${await token(tenant, 'hoarder')}`;
    const idle = [await openSocket(urlA, auth), await openSocket(urlB, auth), await openSocket(urlA, auth)];
    expect(idle.map((s) => s.outcome)).toEqual(['ack', 'ack', 'ack']);
    const extra = await openSocket(urlB, auth);
    expect(extra.outcome).toBe(4430);
    // The SDK names the close code.
    const sdk = await client(urlA, tenant, 'hoarder');
    const refused = follow(sdk.answerStream('s1'));
    await refused.done;
    expect(refused.state.code).toBe('CONNECTION_LIMIT_REACHED');
    await sdk.close();
    // Another user of the tenant is not affected.
    expect((await openSocket(urlB, `Bearer ${await token(tenant, 'bystander')}`)).outcome).toBe('ack');
    // A socket dropped without a close frame (network gone) gives its place back.
    idle[1]!.ws.terminate();
    await until(async () => (await openSocket(urlB, auth)).outcome === 'ack', 10_000, 'a place after terminate');
  });

  it('rate-limits each user of a tenant on their own: 429 with Retry-After, while the tenant’s other users are served', async () => {
    const tenant = 'fair-rate';
    const greedy = { authorization: `Bearer ${await token(tenant, 'greedy')}` };
    const polite = { authorization: `Bearer ${await token(tenant, 'polite')}` };
    const query = { query: '{ tenant { id } }' };
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await postGraphQL(i % 2 ? urlA : urlB, query, greedy)).status);
    expect(statuses).toEqual(Array(10).fill(200));
    const response = await fetch(urlA, {
      method: 'POST',
      headers: { ...greedy, 'content-type': 'application/json' },
      body: JSON.stringify(query),
    });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = (await response.json()) as { errors: { extensions: Record<string, unknown> }[] };
    expect(body.errors[0]!.extensions).toMatchObject({ code: 'RATE_LIMITED', scope: 'user', ratePerSecond: 0.5, burst: 10 });
    // The same user is refused over graphql-ws too (each subscribe is a request).
    const socket = await openSocket(urlB, greedy.authorization);
    expect(await socket.subscribe(ANSWER_STREAM, { s: 's1' })).toBe('RATE_LIMITED');
    socket.ws.close();
    for (const url of [urlA, urlB]) expect((await postGraphQL(url, query, polite)).status).toBe(200);
  });
});

describe('subscriptions end with their credentials (graphql-ws and SSE)', () => {
  /** Opens tenantActivity on both protocols and proves each live with an event of the tenant. */
  async function liveActivity(tenant: string, subscriber: BeedeskClient) {
    const streams = (['graphql-ws', 'sse'] as SubscriptionProtocol[]).map((protocol) => follow(subscriber.tenantActivity({ protocol })));
    let n = 0;
    await until(
      async () => {
        // SESSION_STARTED of a new user; repeated until both streams are subscribed and got one.
        await (await client(urlB, tenant, `visitor-${++n}-${Date.now()}`)).startSession();
        return streams.every((s) => s.state.values.length > 0);
      },
      10_000,
      'both streams live',
    );
    expect(streams.map((s) => s.state.ended)).toEqual([false, false]);
    return streams;
  }

  it('a revoked API key’s open subscriptions end within seconds', async () => {
    const tenant = 'fair-revoke';
    const admin = await client(urlA, tenant, 'root', ['admin']);
    const created = await admin.createApiKey('dashboard', ['ADMIN'], { persistedOnly: false });
    const partner = new BeedeskClient({ url: urlB, apiKey: created.secret, webSocketImpl: WebSocket });
    const streams = await liveActivity(tenant, partner);
    const revokedAt = Date.now();
    expect(await admin.revokeApiKey(created.apiKey.id)).toBe(true);
    await until(() => streams.every((s) => s.state.ended), 5_000, 'subscriptions ended after revocation');
    expect(streams.map((s) => s.state.code)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED']);
    const latency = Math.max(...streams.map((s) => s.state.endedAt - revokedAt));
    process.stderr.write(`revocation → both subscriptions ended in ${latency} ms\n`);
    expect(latency).toBeLessThan(5_000);
    await partner.close();
  });

  it('an erased tenant’s open subscriptions end within seconds', async () => {
    const tenant = 'fair-erase';
    const admin = await client(urlA, tenant, 'boss', ['admin']);
    const watcher = await client(urlB, tenant, 'watcher', ['admin']);
    const streams = await liveActivity(tenant, watcher);
    const erasedAt = Date.now();
    await admin.eraseTenant(tenant);
    await until(() => streams.every((s) => s.state.ended), 5_000, 'subscriptions ended after erasure');
    process.stderr.write(`erasure → both subscriptions ended in ${Math.max(...streams.map((s) => s.state.endedAt - erasedAt))} ms\n`);
    expect(streams.map((s) => s.state.code)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED']);
    await watcher.close();
  });

  it('a token inside the clock tolerance is served on HTTP, graphql-ws and SSE alike, until the tolerance ends', async () => {
    const tenant = 'fair-clock';
    // Expired a second ago (whole seconds: 1 to 2 s): within the 5 s tolerance.
    const mintedAt = Date.now();
    const late = await client(urlA, tenant, 'late-admin', ['admin'], -1);
    expect((await late.tenant()).id).toBe(tenant);
    const streams = await liveActivity(tenant, late);
    await Promise.all(streams.map((s) => s.done));
    expect(streams.map((s) => s.state.code)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED']);
    // Ended when the tolerance ran out (token times have whole seconds), not at once.
    for (const s of streams) expect(s.state.endedAt).toBeGreaterThan(mintedAt + (CLOCK_TOLERANCE_SECONDS - 2) * 1000 - 100);
    await late.close();
  });
});

describe('distinct user ids get distinct keys (resume and erasure per user)', () => {
  // Under the earlier encoding both ids became `auth0%7c5f2d3c`.
  const pipeUser = 'auth0|5f2d3c';
  const wideUser = 'auth0\u7c5f2d3c';

  it('resumes each user’s own session and erases each user’s own data', async () => {
    const tenant = 'fair-ids';
    const pipe = await client(urlA, tenant, pipeUser);
    const wide = await client(urlB, tenant, wideUser);
    const pipeSession = await pipe.startSession();
    const wideSession = await wide.startSession();
    expect(wideSession.id).not.toBe(pipeSession.id);
    expect((await pipe.startSession()).id).toBe(pipeSession.id);
    expect((await wide.startSession()).id).toBe(wideSession.id);

    expect((await wide.deleteMyData()).sessions).toBe(1);
    // The other user's data is untouched, and their own erasure finds all of it.
    expect((await pipe.startSession()).id).toBe(pipeSession.id);
    expect((await pipe.deleteMyData()).sessions).toBe(1);
    const keys = tenantKeys(e2e.keyPrefix, tenant);
    expect(await redis.exists(keys.session(pipeSession.id), keys.session(wideSession.id))).toBe(0);
  });

  it('honours a resume pointer and an erasure index written under the earlier encoding, never another user’s', async () => {
    const tenant = 'fair-legacy';
    const keys = tenantKeys(e2e.keyPrefix, tenant);
    // wideUser's legacy keys are pipeUser's current keys: a session of each ends up indexed there.
    const legacyPointer = `${keys.base}:user:${legacyKeyPart(wideUser)}:active-session`;
    const legacyIndex = `${keys.base}:user:${legacyKeyPart(wideUser)}:sessions`;
    const legacyId = mintSessionId(E2E_INTERNAL_SECRET, tenant);
    const now = new Date();
    await redis
      .multi()
      .hset(keys.session(legacyId), { userId: wideUser, startedAt: now.toISOString(), lastActiveAt: now.toISOString(), turnCount: 0 })
      .pexpire(keys.session(legacyId), 600_000)
      .set(legacyPointer, legacyId, 'PX', 600_000)
      .zadd(legacyIndex, now.getTime(), legacyId)
      .exec();
    const wide = await client(urlB, tenant, wideUser);
    expect((await wide.startSession()).id).toBe(legacyId);
    // pipeUser is never handed wideUser's session from the shared key.
    const pipe = await client(urlA, tenant, pipeUser);
    const pipeSession = await pipe.startSession();
    expect(pipeSession.id).not.toBe(legacyId);
    expect(await redis.zrange(legacyIndex, 0, -1)).toEqual(expect.arrayContaining([legacyId, pipeSession.id]));
    // wideUser's erasure finds the legacy session and leaves pipeUser's entry in the shared index alone.
    expect((await wide.deleteMyData()).sessions).toBe(1);
    expect(await redis.exists(keys.session(legacyId))).toBe(0);
    expect(await redis.zrange(legacyIndex, 0, -1)).toEqual([pipeSession.id]);
    expect((await pipe.startSession()).id).toBe(pipeSession.id);
    expect((await pipe.deleteMyData()).sessions).toBe(1);
    expect(await redis.exists(keys.session(pipeSession.id), legacyIndex)).toBe(0);
  });
});
