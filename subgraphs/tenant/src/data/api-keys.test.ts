import { connectRedis, type Redis } from '@beedesk/runtime';
import { ApiKeyRepository, hashApiKey, parseApiKey } from './api-keys';

// Against the real Redis (REDIS_URL or 127.0.0.1:6379), under a key prefix of its own that it removes after.
describe('ApiKeyRepository (real Redis)', () => {
  const prefix = `unit-apikeys-${process.pid}-${Date.now()}`;
  let redis: Redis;
  let apiKeys: ApiKeyRepository;

  const ourKeys = async (): Promise<string[]> => {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      found.push(...batch);
    } while (cursor !== '0');
    return found;
  };

  beforeAll(async () => {
    redis = await connectRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    apiKeys = new ApiKeyRepository(redis, prefix);
  });
  afterAll(async () => {
    const keys = await ourKeys();
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('creates a key shown once, verifies it, lists it without its secret and revokes it for the next lookup', async () => {
    const issued = await apiKeys.create('acme', { name: 'crm sync', roles: ['agent', 'agent'], persistedOnly: true, createdBy: 'admin-1' });
    expect(issued.key).toMatch(/^bdk_acme_[A-Za-z0-9_-]{43}$/);
    expect(issued.record).toEqual({
      id: expect.any(String),
      name: 'crm sync',
      roles: ['agent'],
      persistedOnly: true,
      prefix: issued.key.slice(0, 'bdk_acme_'.length + 6),
      createdAt: expect.any(String),
      createdBy: 'admin-1',
      revokedAt: null,
    });

    await expect(apiKeys.verify(issued.key)).resolves.toEqual({ tenantId: 'acme', record: issued.record });
    const listed = await apiKeys.list('acme');
    expect(listed).toEqual([issued.record]);
    expect(JSON.stringify(listed)).not.toContain(parseApiKey(issued.key)!.secret);

    await expect(apiKeys.revoke('acme', issued.record.id)).resolves.toBe(true);
    await expect(apiKeys.verify(issued.key)).resolves.toBeNull();
    await expect(apiKeys.revoke('acme', issued.record.id)).resolves.toBe(false);
    const [revoked] = await apiKeys.list('acme');
    expect(revoked?.revokedAt).toEqual(expect.any(String));
    expect(await apiKeys.countActive('acme')).toBe(0);
  });

  it('stores only the hash: no stored value contains the secret', async () => {
    const issued = await apiKeys.create('hashed', { name: 'k', roles: ['admin'], persistedOnly: false, createdBy: 'u' });
    const { secret } = parseApiKey(issued.key)!;
    const keys = await ourKeys();
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(key).not.toContain(secret);
      const type = await redis.type(key);
      const values = type === 'string' ? [await redis.get(key)] : type === 'set' ? await redis.smembers(key) : [];
      expect(type === 'string' || type === 'set').toBe(true);
      for (const value of values) expect(value).not.toContain(secret);
    }
    const stored = await redis.get(`${prefix}:{hashed}:api-key:${issued.record.id}`);
    expect(stored).toContain(hashApiKey(issued.key));
  });

  it('refuses malformed keys, foreign secrets and a key whose tenant part was edited', async () => {
    const issued = await apiKeys.create('tenant-a', { name: 'a', roles: ['customer'], persistedOnly: true, createdBy: 'u' });
    await apiKeys.create('tenant-b', { name: 'b', roles: ['customer'], persistedOnly: true, createdBy: 'u' });
    const secret = parseApiKey(issued.key)!.secret;
    for (const bad of [
      '',
      'bdk_',
      'bdk_tenant-a',
      `xyz_tenant-a_${secret}`,
      `bdk_Tenant-A_${secret}`,
      `bdk_tenant-a_${secret}x`,
      `bdk_tenant-a_${secret.slice(1)}`,
      `bdk_tenant-a_${'A'.repeat(43)}`,
      `bdk_tenant-b_${secret}`,
    ]) {
      await expect(apiKeys.verify(bad)).resolves.toBeNull();
    }
    await expect(apiKeys.verify(issued.key)).resolves.toMatchObject({ tenantId: 'tenant-a' });
  });

  it('keeps tenants apart: listing and revoking only see the tenant’s own keys', async () => {
    const a = await apiKeys.create('iso-a', { name: 'a', roles: ['customer'], persistedOnly: true, createdBy: 'u' });
    expect(await apiKeys.list('iso-b')).toEqual([]);
    await expect(apiKeys.revoke('iso-b', a.record.id)).resolves.toBe(false);
    await expect(apiKeys.verify(a.key)).resolves.not.toBeNull();
  });

  it('parses the key format', () => {
    const secret = 'a'.repeat(40) + '_-Z';
    expect(parseApiKey(`bdk_demo-bank_${secret}`)).toEqual({ tenantId: 'demo-bank', secret });
    expect(parseApiKey(`bdk_demo_bank_${secret}`)).toBeNull();
  });
});
