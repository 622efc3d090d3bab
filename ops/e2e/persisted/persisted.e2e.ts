import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createClient, type Client } from 'graphql-ws';
import Redis from 'ioredis';
import WebSocket from 'ws';
import { gatewayKeys } from '@beedesk/gateway';
import { BeedeskClient, BeedeskError, GetTenant } from '@beedesk/sdk';
import { runPartnerExample, type PersistedQueryManifest } from '@beedesk/partner-example';
import { repoRoot } from '../../src/cluster';
import { e2eEnvironment, e2ePort, postGraphQL } from '../harness/cluster';

// Persisted operations through TWO gateway replicas sharing one real Redis: APQ registered on one
// replica is served by the other, per tenant; trusted documents by id over HTTP and graphql-ws; a
// persisted-only partner API key; and the partner example against the whole cluster (real Kafka
// and inference worker answering).
const e2e = e2eEnvironment('persisted', 15500);
const GATEWAY_B = { instance: 'gateway-b', port: e2ePort(15510) };
const gatewayA = e2e.gatewayUrl;
const gatewayB = `http://127.0.0.1:${GATEWAY_B.port}/graphql`;
/** A third replica with GATEWAY_PERSISTED_ONLY=true. */
const STRICT = { instance: 'gateway-strict', port: e2ePort(15511) };
const strictGateway = `http://127.0.0.1:${STRICT.port}/graphql`;
const TENANT_A = 'pq-bank';
const TENANT_B = 'pq-shop';
const manifest = JSON.parse(readFileSync(join(repoRoot, 'schema', 'persisted-operations.json'), 'utf8')) as PersistedQueryManifest;
const idOf = (name: string): string => {
  const entry = manifest.operations.find((o) => o.name === name);
  if (!entry) throw new Error(`${name} is not in the manifest`);
  return entry.id;
};
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const apq = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });

let redis: Redis;
let bearerA: Record<string, string>;
let bearerB: Record<string, string>;
let partnerKey: string;
const sockets: Client[] = [];

type Response = Awaited<ReturnType<typeof postGraphQL>>;
const codeOf = (response: Response) => response.body.errors?.[0]?.extensions?.code;

async function getGraphQL(url: string, params: Record<string, string>, headers: Record<string, string>): Promise<Response> {
  const response = await fetch(`${url}?${new URLSearchParams(params)}`, { headers });
  return { status: response.status, body: (await response.json()) as never };
}

beforeAll(async () => {
  for (const name of ['tenant', 'session', 'answer', 'inference'] as const) await e2e.cluster.start(name);
  await e2e.cluster.start('gateway');
  await e2e.cluster.start('gateway', {}, GATEWAY_B);
  await e2e.cluster.start('gateway', { GATEWAY_PERSISTED_ONLY: 'true' }, STRICT);
  redis = new Redis(e2e.env.REDIS_URL!);
  bearerA = { authorization: `Bearer ${await e2e.token(TENANT_A, 'alice', 'customer')}` };
  bearerB = { authorization: `Bearer ${await e2e.token(TENANT_B, 'bob', 'customer')}` };
  const admin = e2e.client(await e2e.token(TENANT_A, 'admin', 'admin'));
  await admin.upsertArticle({
    id: 'card',
    title: 'Card delivery',
    body: 'Cards arrive within 7 days.',
    questions: ['my card has not arrived', 'where is my card', 'when will my card come'],
  });
  await admin.upsertArticle({
    id: 'pin',
    title: 'PIN reset',
    body: 'Reset the PIN in the app.',
    questions: ['forgot my pin', 'reset my pin'],
  });
  const created = await postGraphQL(
    gatewayA,
    { query: 'mutation { createApiKey(name: "partner", roles: [CUSTOMER], persistedOnly: true) { secret apiKey { id persistedOnly } } }' },
    { authorization: `Bearer ${await e2e.token(TENANT_A, 'admin', 'admin')}` },
  );
  const data = created.body.data as { createApiKey: { secret: string; apiKey: { persistedOnly: boolean } } } | undefined;
  if (!data) throw new Error(`createApiKey failed: ${JSON.stringify(created.body)}`);
  expect(data.createApiKey.apiKey.persistedOnly).toBe(true);
  partnerKey = data.createApiKey.secret;
}, 180_000);

afterAll(async () => {
  for (const socket of sockets) await socket.dispose();
  const mine = [...(await redis.keys(`${e2e.keyPrefix}:*`))];
  if (mine.length) await redis.del(...mine);
  redis?.disconnect();
  await e2e.cluster.stopAll();
});

describe('automatic persisted queries (APQ)', () => {
  const QUERY = 'query TenantName { tenant { id name } }';
  const hash = sha256(QUERY);

  it('unknown hash → PERSISTED_QUERY_NOT_FOUND (HTTP 200); registered on replica A, served by hash alone on replica B (GET), stored under the tenant with a TTL', async () => {
    const miss = await postGraphQL(gatewayB, { extensions: apq(hash) }, bearerA);
    expect(miss.status).toBe(200);
    expect(miss.body.errors).toEqual([{ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }]);

    const registered = await postGraphQL(gatewayA, { query: QUERY, extensions: apq(hash) }, bearerA);
    expect(registered).toMatchObject({ status: 200, body: { data: { tenant: { id: TENANT_A } } } });

    const hit = await getGraphQL(gatewayB, { extensions: JSON.stringify(apq(hash)) }, bearerA);
    expect(hit).toMatchObject({ status: 200, body: { data: { tenant: { id: TENANT_A } } } });
    expect(hit.body.errors).toBeUndefined();

    const key = gatewayKeys(e2e.keyPrefix, TENANT_A).apq(hash);
    expect(await redis.get(key)).toBe(QUERY);
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(23 * 3600);
    expect(ttl).toBeLessThanOrEqual(24 * 3600);
  });

  it('tenant B cannot use a hash registered by tenant A', async () => {
    await postGraphQL(gatewayA, { query: QUERY, extensions: apq(hash) }, bearerA);
    const other = await postGraphQL(gatewayB, { extensions: apq(hash) }, bearerB);
    expect(other.status).toBe(200);
    expect(codeOf(other)).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(await redis.exists(gatewayKeys(e2e.keyPrefix, TENANT_B).apq(hash))).toBe(0);
  });

  it('refuses a query that does not match its hash, and never stores a document that does not validate', async () => {
    const mismatch = await postGraphQL(gatewayA, { query: QUERY, extensions: apq(sha256('something else')) }, bearerA);
    expect(mismatch.status).toBe(400);
    expect(codeOf(mismatch)).toBe('PERSISTED_QUERY_HASH_MISMATCH');

    const invalid = 'query Bad { tenant { nope } }';
    const refused = await postGraphQL(gatewayA, { query: invalid, extensions: apq(sha256(invalid)) }, bearerA);
    expect(codeOf(refused)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(codeOf(await postGraphQL(gatewayB, { extensions: apq(sha256(invalid)) }, bearerA))).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it('accepts only version 1', async () => {
    const response = await postGraphQL(gatewayA, { extensions: { persistedQuery: { version: 2, sha256Hash: hash } } }, bearerA);
    expect(response.status).toBe(400);
    expect(codeOf(response)).toBe('BAD_REQUEST');
  });
});

describe('trusted documents (the manifest)', () => {
  it('runs a manifest document by documentId over POST and GET, and by its hash as APQ, on either replica', async () => {
    const post = await postGraphQL(gatewayA, { documentId: idOf('GetTenant') }, bearerA);
    expect(post).toMatchObject({ status: 200, body: { data: { tenant: { id: TENANT_A } } } });
    const get = await getGraphQL(gatewayB, { documentId: idOf('GetTenant') }, bearerB);
    expect(get).toMatchObject({ status: 200, body: { data: { tenant: { id: TENANT_B } } } });
    const byHash = await postGraphQL(gatewayB, { extensions: apq(idOf('GetTenant')) }, bearerB);
    expect(byHash.body.data).toEqual({ tenant: { id: TENANT_B, name: expect.any(String) } });
  });

  it('an unknown documentId → PERSISTED_QUERY_NOT_IN_LIST', async () => {
    const response = await postGraphQL(gatewayA, { documentId: sha256('not in the manifest') }, bearerA);
    expect(response.status).toBe(400);
    expect(codeOf(response)).toBe('PERSISTED_QUERY_NOT_IN_LIST');
  });
});

it('GATEWAY_PERSISTED_ONLY=true holds every caller (also JWT users) to the manifest', async () => {
  const adhoc = await postGraphQL(strictGateway, { query: '{ tenant { id } }' }, bearerA);
  expect(adhoc.status).toBe(400);
  expect(codeOf(adhoc)).toBe('PERSISTED_QUERY_NOT_IN_LIST');
  expect((await postGraphQL(strictGateway, { documentId: idOf('GetTenant') }, bearerA)).body.data).toEqual({
    tenant: { id: TENANT_A, name: expect.any(String) },
  });
});

describe('a persisted-only partner API key', () => {
  const key = () => ({ 'x-api-key': partnerKey });

  it('gets PERSISTED_QUERY_NOT_IN_LIST for an ad-hoc query or an APQ registration, on both replicas', async () => {
    for (const url of [gatewayA, gatewayB]) {
      const adhoc = await postGraphQL(url, { query: '{ tenant { id } }' }, key());
      expect(adhoc.status).toBe(400);
      expect(codeOf(adhoc)).toBe('PERSISTED_QUERY_NOT_IN_LIST');
      const query = 'query Mine { tenant { id } }';
      expect(codeOf(await postGraphQL(url, { query, extensions: apq(sha256(query)) }, key()))).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    }
  });

  it('succeeds with the manifest’s documents: by documentId, by hash, or as their exact text', async () => {
    expect((await postGraphQL(gatewayA, { documentId: idOf('GetTenant') }, key())).body).toEqual({
      data: { tenant: { id: TENANT_A, name: expect.any(String) } },
    });
    expect((await getGraphQL(gatewayB, { extensions: JSON.stringify(apq(idOf('PartnerTenant'))) }, key())).body.data).toEqual({
      tenant: { id: TENANT_A, name: expect.any(String) },
    });
    const body = manifest.operations.find((o) => o.name === 'GetTenant')!.body;
    expect((await postGraphQL(gatewayA, { query: body }, key())).body.data).toEqual({ tenant: { id: TENANT_A, name: expect.any(String) } });
  });

  it('subscribes over graphql-ws by documentId (AnswerStream) and receives the answer; an ad-hoc subscription is refused', async () => {
    const socket = createClient({
      url: gatewayB.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { apiKey: partnerKey },
      retryAttempts: 0,
    });
    sockets.push(socket);
    const session = await postGraphQL(gatewayA, { documentId: idOf('PartnerStartSession') }, key());
    const sessionId = (session.body.data as { startSession: { id: string } }).startSession.id;

    // graphql-ws requires a `query` string: an empty one with `documentId` names the trusted document.
    const payload = { query: '', documentId: idOf('AnswerStream'), variables: { sessionId } };
    const events = socket.iterate<{ answerStream: { kind: string; answer: { text: string; sources: { title: string }[] } | null } }>(
      payload,
    );
    const first = events.next();
    // Let the subscription reach the subgraph before asking.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const asked = await postGraphQL(
      gatewayA,
      { documentId: idOf('PartnerAsk'), variables: { sessionId, text: 'where is my card?' } },
      key(),
    );
    expect(asked.body.errors).toBeUndefined();
    const kinds: string[] = [];
    let step = await first;
    for (;;) {
      if (step.done) break;
      expect(step.value.errors).toBeUndefined();
      const event = step.value.data!.answerStream;
      kinds.push(event.kind);
      if (event.kind === 'DONE' || event.kind === 'FALLBACK') {
        expect(event.answer?.sources.map((s) => s.title)).toContain('Card delivery');
        break;
      }
      step = await events.next();
    }
    await events.return?.();
    expect(kinds[kinds.length - 1]).toBe('DONE');

    const adhoc = socket.iterate({ query: 'subscription { answerStream(sessionId: "x") { kind } }' });
    await expect(adhoc.next()).rejects.toEqual([expect.objectContaining({ extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST' } })]);
  });

  it('runs the partner example (documentId only) against the cluster', async () => {
    const result = await runPartnerExample({
      url: gatewayB,
      apiKey: partnerKey,
      manifest,
      question: 'my card has not arrived',
      timeoutMs: 60_000,
    });
    expect(result.tenant.id).toBe(TENANT_A);
    expect(result.answer.status).toBe('DONE');
    expect(result.answer.sources.map((s) => s.id)).toContain('card');

    // And as its command, the way a partner runs it (built by `turbo run build`).
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(repoRoot, 'clients', 'partner-example', 'dist', 'main.js'), 'where is my card?'],
      {
        env: { ...process.env, BEEDESK_URL: gatewayA, BEEDESK_API_KEY: partnerKey },
        timeout: 60_000,
      },
    );
    expect(JSON.parse(stdout)).toMatchObject({ tenant: TENANT_A, status: 'DONE', sources: expect.arrayContaining(['Card delivery']) });
  });
});

describe('the SDK sending persisted operations', () => {
  /** Real fetch, recording what the SDK sent. */
  const recording =
    (sent: Record<string, unknown>[]): typeof fetch =>
    async (input, init) => {
      sent.push(JSON.parse(String(init?.body)) as Record<string, unknown>);
      return fetch(input, init);
    };

  it('apq: hash first, the text once on PERSISTED_QUERY_NOT_FOUND, then the hash alone on the other replica', async () => {
    const token = await e2e.token(TENANT_B, 'sdk-user', 'customer');
    // Not a manifest document (those are known by hash already): registered on first use.
    const document = 'query SdkApq { tenant { id name } }';
    const sentToA: Record<string, unknown>[] = [];
    const a = new BeedeskClient({ url: gatewayA, token, persistedOperations: 'apq', fetch: recording(sentToA) });
    expect((await a.request<{ tenant: { id: string } }, Record<string, never>>({ document })).tenant.id).toBe(TENANT_B);
    expect(sentToA.map((body) => 'query' in body)).toEqual([false, true]);
    expect(await redis.get(gatewayKeys(e2e.keyPrefix, TENANT_B).apq(sha256(document)))).toBe(document);

    const sentToB: Record<string, unknown>[] = [];
    const b = new BeedeskClient({ url: gatewayB, token, persistedOperations: 'apq', fetch: recording(sentToB) });
    expect((await b.request<{ tenant: { id: string } }, Record<string, never>>({ document })).tenant.id).toBe(TENANT_B);
    expect(sentToB).toEqual([{ extensions: apq(sha256(document)), variables: {} }]);
    // Manifest documents are known by hash without registration.
    const sent: Record<string, unknown>[] = [];
    await new BeedeskClient({ url: gatewayA, token, persistedOperations: 'apq', fetch: recording(sent) }).tenant();
    expect(sent).toEqual([{ extensions: apq(sha256(GetTenant.document)), variables: {} }]);
  });

  it('manifest: documentId only, which a persisted-only key may run; other documents fail before any request', async () => {
    const sent: Record<string, unknown>[] = [];
    const client = new BeedeskClient({
      url: gatewayB,
      headers: { 'x-api-key': partnerKey },
      persistedOperations: { manifest },
      fetch: recording(sent),
    });
    const session = await client.startSession();
    expect(session.id).toBeTruthy();
    expect(sent).toEqual([{ documentId: idOf('StartSession'), variables: {} }]);
    const adhoc = new BeedeskClient({ url: gatewayB, headers: { 'x-api-key': partnerKey } });
    await expect(adhoc.request({ document: 'query Mine { tenant { id } }' })).rejects.toMatchObject({
      code: 'PERSISTED_QUERY_NOT_IN_LIST',
    });
    await expect(adhoc.request({ document: 'query Mine { tenant { id } }' })).rejects.toBeInstanceOf(BeedeskError);
  });
});
