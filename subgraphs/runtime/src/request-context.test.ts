import { GraphQLError } from 'graphql';
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
