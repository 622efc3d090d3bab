import { connectRedis, createInMemoryRedis, createLogger, type Redis } from '@beedesk/runtime';
import IORedis from 'ioredis';
import { Registry } from 'prom-client';
import type { Authentication } from '../caller';
import { createLimitMetrics } from './metrics';
import { RateLimiter, type RateLimitSettings } from './rate-limiter';

const logger = createLogger('test', 'silent');
const jwtCaller = (tenantId: string, userId = 'u1'): Authentication => ({
  caller: { tenantId, userId, roles: ['customer'], requestId: 'r' },
  expiresAt: null,
  credential: { kind: 'jwt' },
});
const keyCaller = (tenantId: string, keyId: string): Authentication => ({
  caller: { tenantId, userId: `api-key:${keyId}`, roles: ['agent'], requestId: 'r' },
  expiresAt: null,
  credential: { kind: 'api-key', keyId, persistedOnly: true },
});
const settings = (overrides: Partial<RateLimitSettings> = {}): RateLimitSettings => ({
  tenant: { ratePerSecond: 1, burst: 5 },
  apiKey: null,
  tenantOverrides: new Map(),
  ...overrides,
});

// Against the real Redis (REDIS_URL or 127.0.0.1:6379), under a key prefix of its own that it removes after.
describe('token buckets in Redis', () => {
  const keyPrefix = `unit-gw-rate-${process.pid}-${Date.now()}`;
  let redis: Redis;
  let tenantSeq = 0;
  const freshTenant = () => `t${++tenantSeq}`;
  const limiter = (s: RateLimitSettings, store: Redis = redis, registry = new Registry()) =>
    new RateLimiter({ redis: store, keyPrefix, settings: s, logger, metrics: createLimitMetrics(registry), storeTimeoutMs: 250 });

  beforeAll(async () => {
    redis = await connectRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  });
  afterAll(async () => {
    const ours = await redis.keys(`${keyPrefix}:*`);
    if (ours.length) await redis.del(...ours);
    redis.disconnect();
  });

  it('two replicas share one bucket: the burst in total, then refusals with the wait in seconds', async () => {
    const tenant = freshTenant();
    const replicas = [limiter(settings()), limiter(settings())];
    const decisions = [];
    for (let i = 0; i < 8; i++) decisions.push(await replicas[i % 2]!.take(jwtCaller(tenant)));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(5);
    expect(decisions.slice(5)).toEqual(
      Array(3).fill({ allowed: false, scope: 'tenant', retryAfterSeconds: 1, bucket: { ratePerSecond: 1, burst: 5 } }),
    );
    // Keys live under the tenant's hash tag.
    expect(await redis.exists(`${keyPrefix}:{${tenant}}:rate:tenant`)).toBe(1);
  });

  it('a user over their own bucket is refused without taking from the tenant’s: the tenant’s other users are served', async () => {
    const tenant = freshTenant();
    const replicas = [0, 1].map(() => limiter(settings({ tenant: { ratePerSecond: 1, burst: 6 }, user: { ratePerSecond: 1, burst: 3 } })));
    const greedy = [];
    for (let i = 0; i < 6; i++) greedy.push(await replicas[i % 2]!.take(jwtCaller(tenant, 'greedy')));
    expect(greedy.map((d) => d.allowed)).toEqual([true, true, true, false, false, false]);
    expect(greedy[3]).toEqual({ allowed: false, scope: 'user', retryAfterSeconds: 1, bucket: { ratePerSecond: 1, burst: 3 } });
    // The tenant's bucket still has the three the greedy user could not take.
    for (let i = 0; i < 3; i++) expect((await replicas[i % 2]!.take(jwtCaller(tenant, `other-${i}`))).allowed).toBe(true);
    // Per-user buckets live under the tenant's hash tag, the user id encoded.
    expect(await redis.exists(`${keyPrefix}:{${tenant}}:rate:user:greedy`)).toBe(1);
    // API keys have their own bucket, not a user one.
    expect(replicas[0]!.bucketsOf(keyCaller(tenant, 'k1')).map((b) => b.scope)).toEqual(['tenant']);
  });

  it('refills at the rate', async () => {
    const tenant = freshTenant();
    const fast = limiter(settings({ tenant: { ratePerSecond: 20, burst: 2 } }));
    expect((await fast.take(jwtCaller(tenant))).allowed).toBe(true);
    expect((await fast.take(jwtCaller(tenant))).allowed).toBe(true);
    expect((await fast.take(jwtCaller(tenant))).allowed).toBe(false);
    await new Promise((r) => setTimeout(r, 120));
    expect((await fast.take(jwtCaller(tenant))).allowed).toBe(true);
  });

  it('a slow rate gives a long Retry-After', async () => {
    const tenant = freshTenant();
    const slow = limiter(settings({ tenant: { ratePerSecond: 0.1, burst: 1 } }));
    await slow.take(jwtCaller(tenant));
    expect(await slow.take(jwtCaller(tenant))).toMatchObject({ allowed: false, retryAfterSeconds: 10 });
  });

  it('an API key has its own bucket on top of its tenant’s, and a refusal takes no token from either', async () => {
    const tenant = freshTenant();
    const both = limiter(settings({ tenant: { ratePerSecond: 0.001, burst: 4 }, apiKey: { ratePerSecond: 0.001, burst: 2 } }));
    expect((await both.take(keyCaller(tenant, 'k1'))).allowed).toBe(true);
    expect((await both.take(keyCaller(tenant, 'k1'))).allowed).toBe(true);
    expect(await both.take(keyCaller(tenant, 'k1'))).toMatchObject({ allowed: false, scope: 'api-key' });
    // The refused request took nothing from the tenant: two tokens are left for others.
    expect((await both.take(keyCaller(tenant, 'k2'))).allowed).toBe(true);
    expect((await both.take(jwtCaller(tenant))).allowed).toBe(true);
    expect(await both.take(jwtCaller(tenant))).toMatchObject({ allowed: false, scope: 'tenant' });
    expect(await redis.exists(`${keyPrefix}:{${tenant}}:rate:api-key:k1`)).toBe(1);
  });

  it('per-tenant overrides: a bigger bucket, or none (0)', async () => {
    const [big, exempt, other] = [freshTenant(), freshTenant(), freshTenant()];
    const overrides = limiter(
      settings({
        tenant: { ratePerSecond: 0.001, burst: 1 },
        tenantOverrides: new Map([
          [big, { ratePerSecond: 0.001, burst: 3 }],
          [exempt, { ratePerSecond: 0, burst: 0 }],
        ]),
      }),
    );
    const admitted = async (tenant: string, n: number) => {
      let count = 0;
      for (let i = 0; i < n; i++) if ((await overrides.take(jwtCaller(tenant))).allowed) count++;
      return count;
    };
    expect(await admitted(other, 5)).toBe(1);
    expect(await admitted(big, 5)).toBe(3);
    expect(await admitted(exempt, 50)).toBe(50);
    expect(await redis.exists(`${keyPrefix}:{${exempt}}:rate:tenant`)).toBe(0);
  });

  it('anonymous callers (generic mode) have no bucket', async () => {
    const anonymous: Authentication = {
      caller: { tenantId: 'public', userId: 'anonymous', roles: [], requestId: 'r' },
      expiresAt: null,
      credential: { kind: 'anonymous' },
    };
    expect(limiter(settings()).bucketsOf(anonymous)).toEqual([]);
  });

  it('works on the embedded in-process Redis as well', async () => {
    const embedded = limiter(settings({ tenant: { ratePerSecond: 0.001, burst: 2 } }), createInMemoryRedis());
    const tenant = freshTenant();
    const results = [];
    for (let i = 0; i < 3; i++) results.push((await embedded.take(jwtCaller(tenant))).allowed);
    expect(results).toEqual([true, true, false]);
  });

  it('fails open when Redis cannot answer in time, and counts it', async () => {
    // A real client whose server is gone: commands wait in the offline queue until the store timeout.
    const unreachable = new IORedis({
      host: '127.0.0.1',
      port: 1,
      lazyConnect: true,
      retryStrategy: () => 200,
      maxRetriesPerRequest: null,
    });
    unreachable.on('error', () => undefined);
    const registry = new Registry();
    try {
      const failing = limiter(settings({ tenant: { ratePerSecond: 0.001, burst: 1 } }), unreachable as unknown as Redis, registry);
      const started = Date.now();
      const decisions = [await failing.take(jwtCaller('t-down')), await failing.take(jwtCaller('t-down'))];
      expect(decisions).toEqual([{ allowed: true }, { allowed: true }]);
      expect(Date.now() - started).toBeLessThan(1500);
      expect(await registry.getSingleMetricAsString('beedesk_gateway_limit_store_failures_total')).toContain(
        'beedesk_gateway_limit_store_failures_total{limit="rate"} 2',
      );
    } finally {
      unreachable.disconnect();
    }
  });
});
