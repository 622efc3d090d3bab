import Redis from 'ioredis';
import { createAuthenticator } from '../auth';
import type { Authenticator } from '../caller';
import { createAdmission } from './admission';
import { useAuthentication } from './useAuthentication';

describe('admission: authentication', () => {
  // A key store that cannot be reached: nothing listens on port 1.
  const unreachable = new Redis({
    port: 1,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: true,
    retryStrategy: () => null,
  });
  unreachable.on('error', () => undefined);
  afterAll(() => unreachable.disconnect());

  // connect() runs only the authentication phase; the document steps are not reached.
  const admissionWith = (authenticate: Authenticator) => createAdmission([useAuthentication({ kind: 'beedesk', authenticate })]);

  it('answers 503 SERVICE_UNAVAILABLE, not 401 or a crash, when the API-key store is down', async () => {
    const admission = admissionWith(
      createAuthenticator({
        secret: 'unit-test-secret-123456',
        clockToleranceSeconds: 0,
        apiKeys: { redis: unreachable, keyPrefix: 'bdtest' },
      }),
    );
    const result = await admission.connect('http', { apiKey: `bdk_demo-bank_${'a'.repeat(43)}` }, 'req-1');
    expect(result).toMatchObject({ ok: false, status: 503, headers: { 'retry-after': '1' } });
    expect(result.ok === false && result.errors[0]?.extensions['code']).toBe('SERVICE_UNAVAILABLE');
  });

  it('answers 401 UNAUTHENTICATED for a refused credential', async () => {
    const admission = admissionWith(createAuthenticator({ secret: 'unit-test-secret-123456', clockToleranceSeconds: 0 }));
    const result = await admission.connect('http', { authorization: 'Bearer nope' }, 'req-2');
    expect(result).toMatchObject({ ok: false, status: 401 });
    expect(result.ok === false && result.errors[0]?.extensions['code']).toBe('UNAUTHENTICATED');
  });
});
