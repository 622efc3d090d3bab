import { createInMemoryRedis, type Redis } from '@beedesk/runtime';
import { gatewayKeys } from '../keys';
import type { Authentication, Credential } from '../caller';
import type { GraphQLParams } from '../graphql-request';
import { ApqStore } from './apq-store';
import { sha256Hex, TrustedDocuments } from './manifest';
import { createPersistedDocuments, type ResolvedDocument } from './persisted-documents';

const TRUSTED = 'query Trusted { tenant { id name } }';
const TRUSTED_SUB = 'subscription Activity { tenantActivity { kind } }';
const ADHOC = 'query Adhoc { tenant { id } }';
const trusted = new TrustedDocuments([
  { id: sha256Hex(TRUSTED), name: 'Trusted', type: 'query', body: TRUSTED },
  { id: sha256Hex(TRUSTED_SUB), name: 'Activity', type: 'subscription', body: TRUSTED_SUB },
]);
const prefix = `apq-unit-${process.pid}`;

const callerOf = (tenantId: string, credential: Credential = { kind: 'jwt' }): Authentication => ({
  caller: { tenantId, userId: 'u1', roles: ['customer'], requestId: 'r1' },
  expiresAt: null,
  credential,
});
const apqOf = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });

describe('persisted documents (APQ, trusted documents, persisted-only callers)', () => {
  let redis: Redis;
  /** What admission does: resolve the document, then (once it validated) register an APQ. */
  const admit = async (caller: Authentication, params: GraphQLParams, requireTrusted = false): Promise<ResolvedDocument> => {
    const persisted = createPersistedDocuments({ trusted, apq: new ApqStore(redis, prefix, 3600), requireTrusted });
    const resolved = await persisted.resolve(caller, params);
    if (resolved.ok && resolved.registerAs) await persisted.register(caller, resolved.registerAs, resolved.query);
    return resolved;
  };
  const refused = (result: ResolvedDocument) => {
    if (result.ok) throw new Error(`expected a refusal, admitted ${result.query}`);
    return { status: result.status, code: result.code, message: result.message };
  };
  const admitted = (result: ResolvedDocument) => {
    if (!result.ok) throw new Error(`expected admission, refused ${result.code}`);
    return result;
  };

  beforeEach(() => {
    redis = createInMemoryRedis();
  });
  afterEach(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('APQ round trip: unknown hash → PERSISTED_QUERY_NOT_FOUND (HTTP 200), hash + query registers, hash alone then runs it', async () => {
    const a = callerOf('tenant-a');
    const hash = sha256Hex(ADHOC);
    expect(refused(await admit(a, { extensions: apqOf(hash) }))).toEqual({
      status: 200,
      code: 'PERSISTED_QUERY_NOT_FOUND',
      message: 'PersistedQueryNotFound',
    });
    expect(admitted(await admit(a, { query: ADHOC, extensions: apqOf(hash) })).query).toBe(ADHOC);
    const hit = admitted(await admit(a, { extensions: apqOf(hash) }));
    expect(hit).toEqual({ ok: true, query: ADHOC });
    // Stored under the tenant's hash tag, with the TTL.
    const key = gatewayKeys(prefix, 'tenant-a').apq(hash);
    expect(await redis.get(key)).toBe(ADHOC);
    expect(await redis.ttl(key)).toBeGreaterThan(3500);
  });

  it('a hash registered by tenant A is not found for tenant B', async () => {
    const hash = sha256Hex(ADHOC);
    admitted(await admit(callerOf('tenant-a'), { query: ADHOC, extensions: apqOf(hash) }));
    expect(refused(await admit(callerOf('tenant-b'), { extensions: apqOf(hash) })).code).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it('refuses a query whose sha256 is not the hash sent, and does not store it', async () => {
    const wrong = sha256Hex('query Other { tenant { id } }');
    expect(refused(await admit(callerOf('tenant-a'), { query: ADHOC, extensions: apqOf(wrong) }))).toMatchObject({
      status: 400,
      code: 'PERSISTED_QUERY_HASH_MISMATCH',
    });
    expect(await redis.keys(`${prefix}:*`)).toEqual([]);
  });

  it('checks the persistedQuery extension: version 1 and a sha256 hex hash', async () => {
    const a = callerOf('tenant-a');
    const hash = sha256Hex(ADHOC);
    expect(refused(await admit(a, { extensions: { persistedQuery: { version: 2, sha256Hash: hash } } }))).toMatchObject({
      status: 400,
      code: 'BAD_REQUEST',
    });
    expect(refused(await admit(a, { extensions: { persistedQuery: { version: 1, sha256Hash: hash.toUpperCase() } } }))).toMatchObject({
      status: 400,
      code: 'BAD_REQUEST',
    });
    expect(refused(await admit(a, { extensions: { persistedQuery: 'x' } }))).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
  });

  it('runs a trusted document by documentId (also sha256:<id>) or by its hash, without storing anything', async () => {
    const a = callerOf('tenant-a');
    const id = sha256Hex(TRUSTED);
    expect(admitted(await admit(a, { documentId: id })).query).toBe(TRUSTED);
    expect(admitted(await admit(a, { documentId: `sha256:${id}` })).query).toBe(TRUSTED);
    expect(admitted(await admit(a, { extensions: apqOf(id) })).query).toBe(TRUSTED);
    expect(await redis.keys(`${prefix}:*`)).toEqual([]);
    expect(refused(await admit(a, { documentId: 'f'.repeat(64) }))).toMatchObject({ status: 400, code: 'PERSISTED_QUERY_NOT_IN_LIST' });
    expect(refused(await admit(a, { documentId: id, query: ADHOC }))).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
  });

  it('a persisted-only API key runs manifest documents only: by id, by hash, or as their exact text', async () => {
    const key = callerOf('tenant-a', { kind: 'api-key', keyId: 'k1', persistedOnly: true });
    expect(admitted(await admit(key, { documentId: sha256Hex(TRUSTED_SUB) })).query).toBe(TRUSTED_SUB);
    expect(admitted(await admit(key, { extensions: apqOf(sha256Hex(TRUSTED)) })).query).toBe(TRUSTED);
    expect(admitted(await admit(key, { query: TRUSTED })).query).toBe(TRUSTED);
    expect(refused(await admit(key, { query: ADHOC }))).toMatchObject({ status: 400, code: 'PERSISTED_QUERY_NOT_IN_LIST' });
    // Nor may it register or use automatic persisted queries.
    expect(refused(await admit(key, { query: ADHOC, extensions: apqOf(sha256Hex(ADHOC)) })).code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    admitted(await admit(callerOf('tenant-a'), { query: ADHOC, extensions: apqOf(sha256Hex(ADHOC)) }));
    expect(refused(await admit(key, { extensions: apqOf(sha256Hex(ADHOC)) })).code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
  });

  it('an API key not marked persisted-only may send any document', async () => {
    const key = callerOf('tenant-a', { kind: 'api-key', keyId: 'k2', persistedOnly: false });
    expect(admitted(await admit(key, { query: ADHOC })).query).toBe(ADHOC);
  });

  it('GATEWAY_PERSISTED_ONLY holds every caller to the manifest', async () => {
    const user = callerOf('tenant-a');
    expect(refused(await admit(user, { query: ADHOC }, true)).code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    expect(admitted(await admit(user, { documentId: sha256Hex(TRUSTED) }, true)).query).toBe(TRUSTED);
  });
});
