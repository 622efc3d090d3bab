import { createHash } from 'node:crypto';
import IORedis from 'ioredis';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { e2eEnvironment, postGraphQL } from '../harness/cluster';
import { metric, until } from '../harness/metrics';

// Issue 11 point 6: what one account's documents may cost the gateway, through a real gateway on the real Redis.
const e2e = e2eEnvironment('documents', 15870);
const url = e2e.gatewayUrl;
/** Small enough that a few 95 kB documents reach it. */
const CACHE_BYTES = 1_000_000;
const APQ_COUNT = 3;
const APQ_BYTES = 4096;

type ErrorBody = { message: string; extensions?: Record<string, unknown> };
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const apq = (query: string) => ({ persistedQuery: { version: 1, sha256Hash: sha256(query) } });
const padded = (head: string, bytes: number) => head + ' #' + 'x'.repeat(bytes - head.length - 2);
const run = Date.now().toString(36);
const bearer = async (tenant: string) => ({ authorization: `Bearer ${await e2e.token(tenant, 'u1', 'customer')}` });

let redis: IORedis;
const sockets: Client[] = [];

beforeAll(async () => {
  redis = new IORedis(e2e.env.REDIS_URL!);
  await e2e.cluster.start('gateway', {
    DOCUMENT_CACHE_MAX_BYTES: String(CACHE_BYTES),
    APQ_MAX_PER_TENANT: String(APQ_COUNT),
    APQ_MAX_BYTES_PER_TENANT: String(APQ_BYTES),
  });
}, 60_000);

afterAll(async () => {
  for (const socket of sockets) await socket.dispose();
  const mine = await redis.keys(`${e2e.keyPrefix}:*`);
  if (mine.length) await redis.del(...mine);
  redis.disconnect();
  await e2e.cluster.stopAll();
});

describe('query text bound (MAX_QUERY_BYTES, default 100 kB)', () => {
  it('refuses a query text past it with 413 QUERY_TOO_LARGE, comments included, before parsing it', async () => {
    const headers = await bearer(`docs-${run}`);
    // A valid document: only its comment makes it large (the issue's `query{__typename} #<15 MB>`).
    const large = await postGraphQL(url, { query: padded('query { __typename }', 150_000) }, headers);
    expect(large.status).toBe(413);
    expect(large.body.errors).toEqual([expect.objectContaining({ extensions: { code: 'QUERY_TOO_LARGE', maxQueryBytes: 100_000 } })]);
    // Multi-byte characters count as bytes: 40,000 × 3 bytes.
    const wide = await postGraphQL(url, { query: `query { __typename } #${'€'.repeat(40_000)}` }, headers);
    expect(wide.status).toBe(413);
    // Just under the bound: served.
    const near = await postGraphQL(url, { query: padded('query { __typename }', 99_000) }, headers);
    expect(near.status).toBe(200);
    expect(near.body).toEqual({ data: { __typename: 'Query' } });
  });

  it('refuses it over graphql-ws too, with the same code', async () => {
    const headers = await bearer(`docs-${run}`);
    const client = createClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: headers.authorization },
      retryAttempts: 0,
    });
    sockets.push(client);
    const errors: ErrorBody[] = [];
    let done = false;
    client.subscribe(
      { query: padded('subscription { answerStream(sessionId: "s1") { seq } }', 150_000) },
      {
        next: () => undefined,
        error: (error) => {
          errors.push(...(Array.isArray(error) ? (error as ErrorBody[]) : [{ message: String(error) }]));
          done = true;
        },
        complete: () => void (done = true),
      },
    );
    await until(() => done, 10_000, 'the subscribe to be refused');
    expect(errors[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_LARGE' });
  });
});

describe('parsed-document cache (DOCUMENT_CACHE_MAX_BYTES)', () => {
  it('keeps no failed document and stays within its byte budget', async () => {
    const headers = await bearer(`docs-${run}`);
    const entries = () => metric(url, 'beedesk_gateway_document_cache_entries');
    const before = await entries();
    expect(before).toBeGreaterThanOrEqual(0);
    // Distinct documents that fail to parse or validate: each refused, none kept.
    for (let i = 0; i < 20; i++) {
      const broken = await postGraphQL(url, { query: `query Broken${i} { __typename ` }, headers);
      expect(broken.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
      const invalid = await postGraphQL(url, { query: `query Invalid${i} { noSuchField${i} }` }, headers);
      expect(invalid.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    }
    expect(await entries()).toBe(before);
    // Distinct valid documents of 95 kB: served, and the cache stays within its bytes.
    for (let i = 0; i < 12; i++) {
      const valid = await postGraphQL(url, { query: padded(`query Valid${i} { __typename }`, 95_000) }, headers);
      expect(valid.status).toBe(200);
    }
    const bytes = await metric(url, 'beedesk_gateway_document_cache_bytes');
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThanOrEqual(CACHE_BYTES);
    expect(await entries()).toBeLessThan(before + 12);
  });
});

describe('APQ cap per tenant (APQ_MAX_PER_TENANT, APQ_MAX_BYTES_PER_TENANT)', () => {
  it('refuses registrations past the count with PERSISTED_QUERY_LIMIT_REACHED; registered ones and other tenants are unaffected', async () => {
    const tenant = `apq-count-${run}`;
    const headers = await bearer(tenant);
    const docs = Array.from({ length: APQ_COUNT + 1 }, (_, i) => `query Apq${i} { __typename }`);
    for (const query of docs.slice(0, APQ_COUNT)) {
      const registered = await postGraphQL(url, { query, extensions: apq(query) }, headers);
      expect(registered.status).toBe(200);
    }
    const over = await postGraphQL(url, { query: docs[APQ_COUNT], extensions: apq(docs[APQ_COUNT]!) }, headers);
    expect(over.status).toBe(400);
    expect(over.body.errors).toEqual([
      expect.objectContaining({ extensions: { code: 'PERSISTED_QUERY_LIMIT_REACHED', scope: 'count', limit: APQ_COUNT } }),
    ]);
    // Not stored: the hash alone is still unknown.
    const byHash = await postGraphQL(url, { extensions: apq(docs[APQ_COUNT]!) }, headers);
    expect(byHash.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    // Registered documents still run by hash, and re-registering one is not a new registration.
    expect((await postGraphQL(url, { extensions: apq(docs[0]!) }, headers)).body).toEqual({ data: { __typename: 'Query' } });
    expect((await postGraphQL(url, { query: docs[1], extensions: apq(docs[1]!) }, headers)).status).toBe(200);
    // The cap is per tenant.
    const other = await bearer(`apq-other-${run}`);
    expect((await postGraphQL(url, { query: docs[APQ_COUNT], extensions: apq(docs[APQ_COUNT]!) }, other)).status).toBe(200);
  });

  it('refuses registrations past the bytes with PERSISTED_QUERY_LIMIT_REACHED', async () => {
    const headers = await bearer(`apq-bytes-${run}`);
    const first = padded('query Big1 { __typename }', 3000);
    const second = padded('query Big2 { __typename }', 1500);
    expect((await postGraphQL(url, { query: first, extensions: apq(first) }, headers)).status).toBe(200);
    const over = await postGraphQL(url, { query: second, extensions: apq(second) }, headers);
    expect(over.status).toBe(400);
    expect(over.body.errors?.[0]?.extensions).toEqual({ code: 'PERSISTED_QUERY_LIMIT_REACHED', scope: 'bytes', limit: APQ_BYTES });
    // Sent without persistedQuery, the same document runs.
    expect((await postGraphQL(url, { query: second }, headers)).status).toBe(200);
  });
});
