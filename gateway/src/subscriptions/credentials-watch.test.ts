import { ApiKeyRepository } from '@beedesk/tenant/data';
import { connectRedis, createLogger, tenantChannels, tenantKeys, type Redis } from '@beedesk/runtime';
import { createAuthenticator } from '../auth';
import type { Credentials } from '../caller';
import { createAdmission, useAuthentication, type AdmittedConnection } from '../pipeline';
import { createCredentialsWatch, type CredentialsWatch } from './credentials-watch';

const logger = createLogger('test', 'silent');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Against the real Redis (REDIS_URL or 127.0.0.1:6379), under a key prefix of its own that it removes after.
describe('credentials watch (two gateway replicas)', () => {
  const keyPrefix = `unit-gw-credwatch-${process.pid}-${Date.now()}`;
  let redis: Redis;
  let keys: ApiKeyRepository;
  const watches: CredentialsWatch[] = [];
  const replica = (recheckEveryMs = 0) => {
    const authenticate = createAuthenticator({
      secret: 'unit-test-secret-123456',
      clockToleranceSeconds: 0,
      apiKeys: { redis, keyPrefix },
    });
    const admission = createAdmission([useAuthentication({ kind: 'beedesk', authenticate })]);
    const watch = createCredentialsWatch({ redis, keyPrefix, admission, logger, recheckEveryMs });
    watches.push(watch);
    return { watch, admission };
  };
  /** Watches a connection of `credentials`; `ended` gets the reason it was ended with. */
  async function connect(on: ReturnType<typeof replica>, credentials: Credentials) {
    const admitted = (await on.admission.connect('graphql-ws', credentials, 'r')) as { ok: true } & AdmittedConnection;
    expect(admitted.ok).toBe(true);
    const state = { ended: null as string | null };
    on.watch.watch({ authentication: admitted, credentials, end: (reason) => (state.ended ??= reason) });
    return state;
  }

  beforeAll(async () => {
    redis = await connectRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    keys = new ApiKeyRepository(redis, keyPrefix);
  });
  afterAll(async () => {
    for (const watch of watches) await watch.close();
    const ours = await redis.keys(`${keyPrefix}:*`);
    if (ours.length) await redis.del(...ours);
    redis.disconnect();
  });

  it('ends the revoked key’s connections on every replica, and only those', async () => {
    const [a, b] = [replica(), replica()];
    await Promise.all([a.watch.ready, b.watch.ready]);
    const revoked = await keys.create('acme', { name: 'old', roles: ['admin'], persistedOnly: false, createdBy: 'u' });
    const kept = await keys.create('acme', { name: 'new', roles: ['admin'], persistedOnly: false, createdBy: 'u' });
    const onA = await connect(a, { apiKey: revoked.key });
    const onB = await connect(b, { apiKey: revoked.key });
    const other = await connect(a, { apiKey: kept.key });
    await keys.revoke('acme', revoked.record.id);
    for (let i = 0; i < 100 && !(onA.ended && onB.ended); i++) await sleep(20);
    expect([onA.ended, onB.ended]).toEqual(['The API key was revoked.', 'The API key was revoked.']);
    await sleep(100);
    expect(other.ended).toBeNull();
  });

  it('ends every connection of an erased tenant, not another tenant’s', async () => {
    const on = replica();
    await on.watch.ready;
    const erased = await keys.create('gone', { name: 'k', roles: ['admin'], persistedOnly: false, createdBy: 'u' });
    const survivor = await keys.create('stays', { name: 'k', roles: ['admin'], persistedOnly: false, createdBy: 'u' });
    const doomed = await connect(on, { apiKey: erased.key });
    const fine = await connect(on, { apiKey: survivor.key });
    await redis.publish(tenantChannels(keyPrefix, 'gone').credentials, JSON.stringify({ kind: 'tenant-erased' }));
    for (let i = 0; i < 100 && !doomed.ended; i++) await sleep(20);
    expect(doomed.ended).toBe('The tenant was erased.');
    expect(fine.ended).toBeNull();
  });

  it('re-checks API-key connections on its own: a key whose roles changed ends', async () => {
    const on = replica(100);
    await on.watch.ready;
    const issued = await keys.create('roles', { name: 'k', roles: ['admin'], persistedOnly: false, createdBy: 'u' });
    const state = await connect(on, { apiKey: issued.key });
    await sleep(250);
    expect(state.ended).toBeNull();
    // Roles changed in the store without any notification (e.g. one lost while Redis failed over).
    const recordKey = tenantKeys(keyPrefix, 'roles').apiKey(issued.record.id);
    const stored = JSON.parse((await redis.get(recordKey))!) as { roles: string[] };
    await redis.set(recordKey, JSON.stringify({ ...stored, roles: ['customer'] }));
    for (let i = 0; i < 100 && !state.ended; i++) await sleep(20);
    expect(state.ended).toMatch(/credentials changed/);
  });
});
