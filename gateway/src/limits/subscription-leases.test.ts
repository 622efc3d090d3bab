import { connectRedis, createLogger, type Redis } from '@beedesk/runtime';
import IORedis from 'ioredis';
import { Registry } from 'prom-client';
import { createLimitMetrics } from './metrics';
import { TenantSubscriptionLeases, type LeaseResult, type SubscriptionLeasesOptions } from './subscription-leases';

const logger = createLogger('test', 'silent');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const leaseOf = (result: LeaseResult) => {
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result)}`);
  return result.lease;
};

// Against the real Redis (REDIS_URL or 127.0.0.1:6379), under a key prefix of its own that it removes after.
describe('tenant subscription leases across replicas', () => {
  const keyPrefix = `unit-gw-leases-${process.pid}-${Date.now()}`;
  let redis: Redis;
  const replicas: TenantSubscriptionLeases[] = [];
  let tenantSeq = 0;
  const freshTenant = () => `t${++tenantSeq}`;
  const replica = (options: Partial<SubscriptionLeasesOptions> = {}) => {
    const leases = new TenantSubscriptionLeases({
      redis,
      keyPrefix,
      maxPerTenant: 3,
      logger,
      metrics: createLimitMetrics(new Registry()),
      storeTimeoutMs: 250,
      ...options,
    });
    replicas.push(leases);
    return leases;
  };

  beforeAll(async () => {
    redis = await connectRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  });
  afterAll(async () => {
    for (const leases of replicas) leases.close();
    const ours = await redis.keys(`${keyPrefix}:*`);
    if (ours.length) await redis.del(...ours);
    redis.disconnect();
  });

  it('caps a tenant over two replicas and frees a place when a subscription ends', async () => {
    const tenant = freshTenant();
    const [a, b] = [replica(), replica()];
    const held = [leaseOf(await a.acquire(tenant)), leaseOf(await b.acquire(tenant)), leaseOf(await a.acquire(tenant))];
    expect(await b.acquire(tenant)).toEqual({ ok: false, scope: 'tenant', limit: 3, open: 3 });
    expect(await a.acquire(tenant)).toEqual({ ok: false, scope: 'tenant', limit: 3, open: 3 });
    // Another tenant is not affected.
    expect((await b.acquire(freshTenant())).ok).toBe(true);
    held[0]!.release();
    held[0]!.release(); // idempotent
    await sleep(20);
    expect(await redis.zcard(`${keyPrefix}:{${tenant}}:subscription-leases`)).toBe(2);
    expect((await b.acquire(tenant)).ok).toBe(true);
    expect(a.held + b.held).toBe(4);
  });

  it('caps each user of a tenant over replicas, so one user cannot take the tenant’s every place', async () => {
    const tenant = freshTenant();
    const [a, b] = [replica({ maxPerTenant: 4, maxPerUser: 2 }), replica({ maxPerTenant: 4, maxPerUser: 2 })];
    const first = leaseOf(await a.acquire(tenant, 'mallory'));
    leaseOf(await b.acquire(tenant, 'mallory'));
    expect(await a.acquire(tenant, 'mallory')).toEqual({ ok: false, scope: 'user', limit: 2, open: 2 });
    expect(await b.acquire(tenant, 'mallory')).toEqual({ ok: false, scope: 'user', limit: 2, open: 2 });
    // The refused ones took no place of the tenant's: two other users still get theirs.
    leaseOf(await a.acquire(tenant, 'alice'));
    leaseOf(await b.acquire(tenant, 'bob'));
    expect(await a.acquire(tenant, 'carol')).toEqual({ ok: false, scope: 'tenant', limit: 4, open: 4 });
    first.release();
    await sleep(20);
    leaseOf(await b.acquire(tenant, 'mallory'));
  });

  it('a crashed replica’s leases expire; a live replica’s are renewed', async () => {
    const tenant = freshTenant();
    const live = replica({ maxPerTenant: 2, leaseTtlMs: 400, renewEveryMs: 100 });
    const crashed = replica({ maxPerTenant: 2, leaseTtlMs: 400, renewEveryMs: 100 });
    leaseOf(await live.acquire(tenant));
    leaseOf(await crashed.acquire(tenant));
    crashed.close(); // stops renewing, as a process that died would
    const other = replica({ maxPerTenant: 2, leaseTtlMs: 400 });
    expect((await other.acquire(tenant)).ok).toBe(false);
    await sleep(900);
    // The crashed replica's lease is gone; the live one's is still there.
    leaseOf(await other.acquire(tenant));
    expect(await other.acquire(tenant)).toEqual({ ok: false, scope: 'tenant', limit: 2, open: 2 });
  });

  it('no limit (0) never touches Redis', async () => {
    const tenant = freshTenant();
    const unlimited = replica({ maxPerTenant: 0 });
    for (let i = 0; i < 5; i++) leaseOf(await unlimited.acquire(tenant));
    expect(await redis.exists(`${keyPrefix}:{${tenant}}:subscription-leases`)).toBe(0);
  });

  it('fails open when Redis cannot answer in time', async () => {
    const unreachable = new IORedis({
      host: '127.0.0.1',
      port: 1,
      lazyConnect: true,
      retryStrategy: () => 200,
      maxRetriesPerRequest: null,
    });
    unreachable.on('error', () => undefined);
    const leases = new TenantSubscriptionLeases({
      redis: unreachable as unknown as Redis,
      keyPrefix,
      maxPerTenant: 1,
      logger,
      metrics: createLimitMetrics(new Registry()),
      storeTimeoutMs: 200,
    });
    try {
      const results = [await leases.acquire('t-down'), await leases.acquire('t-down')];
      expect(results.map((r) => r.ok)).toEqual([true, true]);
      expect(leases.held).toBe(2);
    } finally {
      leases.close();
      unreachable.disconnect();
    }
  });
});
