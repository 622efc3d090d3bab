import { GraphQLError } from 'graphql';
import IORedis from 'ioredis';
import { createLogger } from './logger';
import { createRequestContexts, type BaseContext } from './request-context';
import { signContext } from './signed-context';

describe('request contexts (one path for the subgraph HTTP and graphql-ws transports)', () => {
  const secret = 'unit-test-internal-secret';
  const contexts = createRequestContexts<BaseContext & { extra: number }>({
    internalSecret: secret,
    logger: createLogger('test', 'silent'),
    createContext: (base) => ({ ...base, extra: 1 }),
  });
  const caller = { tenantId: 'bank-a', userId: 'u1', roles: ['customer' as const], requestId: 'r1' };

  it('verifies the signed caller, and builds a fresh context for it', () => {
    const verified = contexts.verify(signContext(caller, secret));
    expect(verified).toEqual({ ok: true, caller });
    const first = contexts.contextFor(caller);
    expect(first).toMatchObject({ caller, extra: 1 });
    expect(contexts.contextFor(caller)).not.toBe(first);
  });

  it('refuses a missing, non-string or foreign-signed context with one message', () => {
    expect(contexts.verify(undefined)).toEqual({
      ok: false,
      message: 'Refused: missing signed tenant context. Call this service through the gateway.',
    });
    expect(contexts.verify(42)).toMatchObject({ ok: false });
    expect(contexts.verify(signContext(caller, 'another-secret-0123'))).toMatchObject({
      ok: false,
      message: expect.stringContaining('bad tenant context signature'),
    });
  });

  it('masks unexpected errors and keeps coded ones', () => {
    const coded = new GraphQLError('nope', { extensions: { code: 'FORBIDDEN' } });
    const unexpected = new GraphQLError('db password hunter2', { originalError: new Error('db password hunter2') });
    const masked = contexts.maskResult({ data: null, errors: [coded, unexpected] }, contexts.contextFor(caller));
    expect(masked.errors?.map((e) => [e.message, e.extensions['code']])).toEqual([
      ['nope', 'FORBIDDEN'],
      ['Unexpected error.', 'INTERNAL_SERVER_ERROR'],
    ]);
  });
});

describe('Redis unavailable while a request runs', () => {
  const contexts = createRequestContexts<BaseContext>({
    internalSecret: 'unit-test-internal-secret',
    logger: createLogger('test', 'silent'),
    createContext: (base) => base,
  });
  const masked = (error: Error) => contexts.maskError(new GraphQLError(error.message, { originalError: error, path: ['ask'] })).extensions;

  it('answers SERVICE_UNAVAILABLE for what ioredis raises when the server is gone (a real refused connection)', async () => {
    // Nothing listens on port 1: ioredis gives up after one retry with MaxRetriesPerRequestError.
    const redis = new IORedis({ host: '127.0.0.1', port: 1, maxRetriesPerRequest: 1, retryStrategy: () => 50, lazyConnect: true });
    redis.on('error', () => undefined);
    const error = await redis.get('k').then(
      () => null,
      (e: unknown) => e as Error,
    );
    redis.disconnect();
    expect(error).not.toBeNull();
    expect(masked(error!)).toEqual({ code: 'SERVICE_UNAVAILABLE', reason: 'DATA_STORE_UNAVAILABLE' });
    // Without the offline queue a command fails at once while the connection is down.
    const offline = new IORedis({ host: '127.0.0.1', port: 1, enableOfflineQueue: false, retryStrategy: () => 50 });
    offline.on('error', () => undefined);
    const refused = await offline.get('k').then(
      () => null,
      (e: unknown) => e as Error,
    );
    offline.disconnect();
    expect(refused?.message).toMatch(/Stream isn't writeable/);
    expect(masked(refused!)).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
  });

  it('answers SERVICE_UNAVAILABLE for a cluster failover and INTERNAL_SERVER_ERROR for a bug', () => {
    for (const message of [
      'CLUSTERDOWN The cluster is down',
      'TRYAGAIN Multiple keys request during rehashing of slot',
      "READONLY You can't write against a read only replica.",
    ]) {
      expect(masked(Object.assign(new Error(message), { name: 'ReplyError' }))).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    }
    expect(masked(Object.assign(new Error('ERR Error running script: attempt to compare nil'), { name: 'ReplyError' }))).toEqual({
      code: 'INTERNAL_SERVER_ERROR',
    });
    expect(masked(new TypeError("Cannot read properties of undefined (reading 'id')"))).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
  });
});
