import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import WebSocket from 'ws';
import { CONTEXT_HEADER, createInMemoryRedis, createInProcessEventBus, type StartedService } from '@beedesk/runtime';
import { readSupergraph } from '@beedesk/schema';
import { BeedeskClient, type BeedeskError } from '@beedesk/sdk';
import { startInProcessSubgraphs } from './__tests__/in-process-subgraphs';
import { createAuthenticator } from './auth';
import { mintToken } from './dev-tokens';
import { DEFAULT_LIMIT_SETTINGS, FAIR_SHARE_OFF, type FairShareSettings } from './limits';
import { startGateway } from './server';

// The front door's fair share through the real gateway (HTTP and graphql-ws): a proxy in front of the
// tenant subgraph holds every request of the flooding tenant, so its operations stay executing
// while the test looks at who is queued, refused and served.
const SECRET = 'fair-share-unit-jwt-secret';
const INTERNAL = 'fair-share-unit-internal-secret';
const FLOOD = 'flood';
const logger = pino({ level: 'silent' });
const redis = createInMemoryRedis();
const events = createInProcessEventBus('fs', logger);
const started: StartedService[] = [];
/** Bounds small enough to reach with a handful of requests; FAIR_SHARE=off runs the same tests without it. */
const FAIR_SHARE: FairShareSettings =
  process.env.FAIR_SHARE === 'off'
    ? FAIR_SHARE_OFF
    : {
        maxConcurrent: 4,
        maxConcurrentPerTenant: 2,
        maxConcurrentPerTenantContended: 0,
        contentionWindowMs: 1000,
        maxConcurrentPerTenantUnderPressure: 0,
        stalledAfterMs: 1000,
        maxQueuedPerTenant: 2,
        maxWaitMs: 1500,
        weights: new Map(),
        defaultWeight: 1,
      };

/** Requests of the flooding tenant to the tenant subgraph wait here until `releaseHeld`. */
const held: (() => void)[] = [];
let holding = true;
const releaseHeld = () => {
  for (const release of held.splice(0)) release();
};
let proxy: Server;
let gatewayUrl = '';

/** The tenant of the gateway's signed context (`<base64url JSON>.<hmac>`); the subgraph behind checks the signature. */
function tenantOf(req: IncomingMessage): string | undefined {
  const header = req.headers[CONTEXT_HEADER];
  if (typeof header !== 'string') return undefined;
  const wire = JSON.parse(Buffer.from(header.split('.')[0]!, 'base64url').toString('utf8')) as { tid?: string };
  return wire.tid;
}

async function startHoldingProxy(target: string): Promise<Server> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const forward = async () => {
        const headers = Object.fromEntries(
          Object.entries(req.headers).filter(([name, value]) => typeof value === 'string' && !['host', 'content-length'].includes(name)),
        ) as Record<string, string>;
        const answer = await fetch(target, { method: req.method, headers, body: Buffer.concat(chunks) });
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
        res.end(Buffer.from(await answer.arrayBuffer()));
      };
      if (holding && tenantOf(req) === FLOOD) held.push(() => void forward());
      else void forward();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

beforeAll(async () => {
  const { tenant, session, answer } = await startInProcessSubgraphs({ redis, events, keyPrefix: 'fs', internalSecret: INTERNAL, logger });
  started.push(tenant, session, answer);
  proxy = await startHoldingProxy(`http://127.0.0.1:${tenant.port}/graphql`);
  const urls: Record<string, string> = {
    tenant: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/graphql`,
    session: `http://127.0.0.1:${session.port}/graphql`,
    answer: `http://127.0.0.1:${answer.port}/graphql`,
    inference: 'http://127.0.0.1:1/graphql',
  };
  const gateway = await startGateway({
    supergraphSdl: readSupergraph(),
    mode: { kind: 'beedesk', authenticate: createAuthenticator({ secret: SECRET, clockToleranceSeconds: 0 }) },
    internalSecret: INTERNAL,
    redis,
    keyPrefix: 'fs',
    logger,
    host: '127.0.0.1',
    port: 0,
    maxBodyBytes: 1 << 20,
    subgraphTimeoutMs: 10_000,
    urlOverride: (name) => urls[name],
    defaultMetrics: false,
    limits: { ...DEFAULT_LIMIT_SETTINGS, fairShare: FAIR_SHARE },
  });
  started.push(gateway);
  gatewayUrl = `http://127.0.0.1:${gateway.port}/graphql`;
}, 30_000);

afterAll(async () => {
  holding = false;
  releaseHeld();
  for (const service of started.reverse()) await service.close();
  await new Promise((resolve) => proxy.close(resolve));
  await events.close();
  redis.disconnect();
});

let users = 0;
const tokenOf = (tenant: string, user: string) => mintToken({ tenant, user, roles: ['customer'], secret: SECRET });

interface Answer {
  status: number;
  retryAfter: string | null;
  body: { data?: unknown; errors?: { extensions?: Record<string, unknown> }[] };
  ms: number;
}

async function tenantQuery(tenant: string, signal?: AbortSignal): Promise<Answer> {
  const startedAt = performance.now();
  const res = await fetch(gatewayUrl, {
    method: 'POST',
    // A user per request: identical in-flight fetches of one user would share one subgraph call.
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await tokenOf(tenant, `u${++users}`)}` },
    body: JSON.stringify({ query: '{ tenant { id name } }' }),
    signal,
  });
  const body = (await res.json()) as Answer['body'];
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body, ms: performance.now() - startedAt };
}

const settled = <T>(promise: Promise<T>) => {
  const state: { done: boolean; value?: T } = { done: false };
  void promise.then((value) => Object.assign(state, { done: true, value }));
  return state;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const until = async (check: () => boolean, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
};
/** The gateway's executing and queued operations, from its /metrics. */
async function slots(): Promise<{ executing: number; queued: number }> {
  const text = await (await fetch(gatewayUrl.replace('/graphql', '/metrics'))).text();
  const value = (state: string) =>
    Number(new RegExp(`beedesk_gateway_fair_share_operations\\{state="${state}"[^}]*\\} (\\d+)`).exec(text)?.[1]);
  return { executing: value('executing'), queued: value('queued') };
}
const codeOf = (answer: Answer) => answer.body.errors?.[0]?.extensions?.['code'];

describe('fair share between tenants at the front door', () => {
  afterEach(async () => {
    releaseHeld();
    // Let every operation of the previous test finish: their slots come back.
    await sleep(200);
    releaseHeld();
  });

  it("queues a flooding tenant's operations past its own bound and refuses past its queue, while another tenant is served at once", async () => {
    // 2 executing (held by the proxy) + 2 queued; the fifth is refused at once.
    const flood = Array.from({ length: 4 }, () => settled(tenantQuery(FLOOD)));
    await until(() => held.length === 2);
    const refused = await tenantQuery(FLOOD);
    expect(refused.status).toBe(429);
    expect(codeOf(refused)).toBe('RATE_LIMITED');
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ reason: 'TENANT_QUEUE_FULL', scope: 'tenant' });
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);

    const other = await tenantQuery('calm');
    expect(other.status).toBe(200);
    expect(codeOf(other)).toBeUndefined();
    expect(other.ms).toBeLessThan(1000);
    expect(flood.some((f) => f.done)).toBe(false);

    // The slots come back when the held operations end: the queued ones run, all answered.
    releaseHeld();
    await until(() => held.length === 2);
    releaseHeld();
    await until(() => flood.every((f) => f.done));
    expect(flood.map((f) => f.value?.status)).toEqual([200, 200, 200, 200]);
  });

  it("refuses a request of a tenant whose queue is full before reading its body, another tenant's not", async () => {
    const flood = Array.from({ length: 4 }, () => settled(tenantQuery(FLOOD)));
    await until(() => held.length === 2);
    /** Sends the headers and half a body, never the rest: a status comes back only if nobody waits for the body. */
    const halfSent = async (tenant: string) => {
      const token = await tokenOf(tenant, `u${++users}`);
      return new Promise<number | 'no answer'>((resolve) => {
        const req = httpRequest(gatewayUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': '1000', authorization: `Bearer ${token}` },
        });
        const timer = setTimeout(() => {
          req.destroy();
          resolve('no answer');
        }, 1000);
        req.on('response', (res) => {
          clearTimeout(timer);
          res.resume();
          req.destroy();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', () => undefined); // destroyed by us once it answered or did not
        req.write('{"query":"{ tenant { id');
      });
    };
    for (let tries = 0; (await slots()).queued !== 2; tries++) {
      if (tries > 100) throw new Error('the two operations past the bound did not queue');
      await sleep(20);
    }
    expect(await halfSent(FLOOD)).toBe(429);
    expect(await halfSent('calm')).toBe('no answer'); // waits for its body, as it should
    releaseHeld();
    await until(() => held.length === 2);
    releaseHeld();
    await until(() => flood.every((f) => f.done));
  });

  it('refuses an operation that waited past the longest wait with SERVICE_UNAVAILABLE and Retry-After', async () => {
    const running = [settled(tenantQuery(FLOOD)), settled(tenantQuery(FLOOD))];
    await until(() => held.length === 2);
    const waited = await tenantQuery(FLOOD);
    expect(waited.status).toBe(503);
    expect(codeOf(waited)).toBe('SERVICE_UNAVAILABLE');
    expect(waited.body.errors?.[0]?.extensions).toMatchObject({ reason: 'TENANT_QUEUE_TIMEOUT' });
    expect(waited.retryAfter).toBe('2');
    expect(waited.ms).toBeGreaterThanOrEqual(1400);
    releaseHeld();
    await until(() => running.every((f) => f.done));
  });

  it('gives the place of a client that went away to the next request', async () => {
    const running = [settled(tenantQuery(FLOOD)), settled(tenantQuery(FLOOD))];
    await until(() => held.length === 2);
    const gone = Array.from({ length: 2 }, () => new AbortController());
    const abandoned = gone.map((c) => tenantQuery(FLOOD, c.signal).catch(() => null));
    await sleep(100);
    for (const c of gone) c.abort();
    await Promise.all(abandoned);
    await sleep(50);
    // Their two places are free again: two more wait, and are answered once the slots free.
    const next = [settled(tenantQuery(FLOOD)), settled(tenantQuery(FLOOD))];
    await sleep(100);
    expect(next.some((n) => n.done)).toBe(false);
    releaseHeld();
    await until(() => held.length === 2);
    releaseHeld();
    await until(() => [...running, ...next].every((f) => f.done));
    expect(next.map((n) => n.value?.status)).toEqual([200, 200]);
  });

  it('gives the slot back however the operation ends: thrown after admission, or executed after its client went away', async () => {
    // Thrown after admission (a mutation over GET: 405).
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${gatewayUrl}?query=${encodeURIComponent('mutation { startSession { id } }')}`, {
        headers: { authorization: `Bearer ${await tokenOf(FLOOD, `get${i}`)}` },
      });
      expect(res.status).toBe(405);
    }
    expect(await slots()).toEqual({ executing: 0, queued: 0 });
    // The client goes away while its operation executes: the slot stays taken until it has executed.
    const gone = new AbortController();
    const abandoned = tenantQuery(FLOOD, gone.signal).catch(() => null);
    await until(() => held.length === 1);
    gone.abort();
    await abandoned;
    expect(await slots()).toEqual({ executing: 1, queued: 0 });
    releaseHeld();
    await until(() => held.length === 0);
    await sleep(100);
    expect(await slots()).toEqual({ executing: 0, queued: 0 });
  });

  it('over graphql-ws: a flooding tenant’s subscribe is refused past its queue, another tenant’s is served at once', async () => {
    const flood = Array.from({ length: 4 }, () => settled(tenantQuery(FLOOD)));
    await until(() => held.length === 2);
    await sleep(50);
    const subscribeCode = async (tenant: string) => {
      const client = new BeedeskClient({ url: gatewayUrl, token: await tokenOf(tenant, 'ws-user'), webSocketImpl: WebSocket });
      const startedAt = performance.now();
      const code = await client
        .answerStream('00000000-0000-0000-0000-000000000000', { protocol: 'graphql-ws' })
        .next()
        .then(
          () => 'NO_ERROR',
          (e: unknown) => (e as BeedeskError).code,
        );
      await client.close();
      return { code, ms: performance.now() - startedAt };
    };
    expect((await subscribeCode(FLOOD)).code).toBe('RATE_LIMITED');
    const calm = await subscribeCode('calm');
    // Past admission: the subscription itself answers (no such session), promptly.
    expect(calm.code).toBe('NOT_FOUND');
    expect(calm.ms).toBeLessThan(1000);
    releaseHeld();
    await until(() => held.length === 2);
    releaseHeld();
    await until(() => flood.every((f) => f.done));
  });
});
