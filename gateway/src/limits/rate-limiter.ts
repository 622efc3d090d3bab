import { type Logger, type Redis } from '@beedesk/runtime';
import { gatewayKeys } from '../keys';
import type { Authentication } from '../caller';
import type { LimitMetrics } from './metrics';
import { RedisScript, withTimeout } from './redis-script';

/** A token bucket: `burst` requests at once, refilled at `ratePerSecond`. */
export interface Bucket {
  ratePerSecond: number;
  burst: number;
}

export interface RateLimitSettings {
  /** Every request of a tenant; null: no tenant limit. */
  tenant: Bucket | null;
  /** Every request made with one API key (on top of its tenant's); null: no per-key limit. */
  apiKey: Bucket | null;
  /**
   * Every request of one user of a tenant (JWT callers; an API key has its own bucket), on top of the
   * tenant's: one user cannot empty the bucket the tenant's other users share. null: no per-user limit.
   */
  user?: Bucket | null;
  /** Per-tenant replacements of `tenant` (e.g. a bigger plan). */
  tenantOverrides: ReadonlyMap<string, Bucket>;
  /** Widget-key exchanges per tenant's widget key, and per client IP under it; null: none. */
  widgetKey?: Bucket | null;
  widgetIp?: Bucket | null;
}

export type RateScope = 'tenant' | 'api-key' | 'user' | 'widget-key' | 'ip';
export type RateDecision = { allowed: true } | { allowed: false; scope: RateScope; retryAfterSeconds: number; bucket: Bucket };

/**
 * Token buckets in Redis, one per key, refilled from Redis's own clock (TIME) so every gateway
 * replica sees the same buckets. A request takes one token from each of its buckets, or from none
 * when any is empty: all keys are one tenant's (one hash tag), so one script decides atomically.
 * KEYS: the bucket hashes. ARGV: rate per second and burst of each key, in order.
 * Returns {1} when admitted, {0, index of the empty bucket (1-based), ms until it has a token}.
 */
const TAKE = new RedisScript(`
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local tokens = {}
for i = 1, #KEYS do
  local rate = tonumber(ARGV[2 * i - 1]) / 1000
  local burst = tonumber(ARGV[2 * i])
  local state = redis.call('HMGET', KEYS[i], 'tokens', 'at')
  local left = tonumber(state[1])
  local at = tonumber(state[2])
  if left == nil or at == nil then
    left = burst
  else
    left = math.min(burst, left + math.max(0, now - at) * rate)
  end
  if left < 1 then
    return {0, i, math.ceil((1 - left) / rate)}
  end
  tokens[i] = left
end
for i = 1, #KEYS do
  local rate = tonumber(ARGV[2 * i - 1]) / 1000
  local burst = tonumber(ARGV[2 * i])
  local left = tokens[i] - 1
  redis.call('HSET', KEYS[i], 'tokens', tostring(left), 'at', tostring(now))
  -- A bucket that would be full again carries no information: let it expire then.
  redis.call('PEXPIRE', KEYS[i], math.ceil((burst - left) / rate) + 1000)
end
return {1}
`);

export interface RateLimiterOptions {
  redis: Redis;
  keyPrefix: string;
  settings: RateLimitSettings;
  logger: Logger;
  metrics: LimitMetrics;
  /** Past this the store counts as unreachable and the request is admitted. */
  storeTimeoutMs: number;
}

/**
 * Per-tenant and per-API-key request rates, shared by all gateway replicas through Redis.
 * When Redis cannot answer within `storeTimeoutMs` the request is admitted (fail open): the
 * subgraphs need the same Redis anyway, and a limiter outage must not take the whole API down.
 */
export class RateLimiter {
  private lastFailureLog = 0;

  constructor(private readonly options: RateLimiterOptions) {}

  /** The buckets that apply to this caller: none for anonymous (generic mode) callers. */
  bucketsOf(auth: Authentication): { key: string; bucket: Bucket; scope: RateScope }[] {
    if (auth.credential.kind === 'anonymous') return [];
    const { settings, keyPrefix } = this.options;
    const keys = gatewayKeys(keyPrefix, auth.caller.tenantId);
    const buckets: { key: string; bucket: Bucket; scope: RateScope }[] = [];
    // The user's bucket first: a user over their share is refused without taking from the tenant's.
    const user = settings.user;
    if ((auth.credential.kind === 'jwt' || auth.credential.kind === 'visitor') && user && user.ratePerSecond > 0) {
      buckets.push({ key: keys.rateBucket(`user:${auth.caller.userId}`), bucket: user, scope: 'user' });
    }
    const tenant = settings.tenantOverrides.get(auth.caller.tenantId) ?? settings.tenant;
    if (tenant && tenant.ratePerSecond > 0) buckets.push({ key: keys.rateBucket('tenant'), bucket: tenant, scope: 'tenant' });
    if (auth.credential.kind === 'api-key' && settings.apiKey && settings.apiKey.ratePerSecond > 0) {
      buckets.push({ key: keys.rateBucket(`api-key:${auth.credential.keyId}`), bucket: settings.apiKey, scope: 'api-key' });
    }
    return buckets;
  }

  async take(auth: Authentication): Promise<RateDecision> {
    return this.takeFrom(this.bucketsOf(auth), auth.caller);
  }

  /** A widget-key exchange (widget/exchange.ts): one token from the key's bucket and from the client IP's under it. */
  async takeWidgetExchange(tenantId: string, ip: string, requestId: string): Promise<RateDecision> {
    const { settings, keyPrefix } = this.options;
    const keys = gatewayKeys(keyPrefix, tenantId);
    const buckets: { key: string; bucket: Bucket; scope: RateScope }[] = [];
    if (settings.widgetIp && settings.widgetIp.ratePerSecond > 0) {
      buckets.push({ key: keys.rateBucket(`widget-ip:${ip}`), bucket: settings.widgetIp, scope: 'ip' });
    }
    if (settings.widgetKey && settings.widgetKey.ratePerSecond > 0) {
      buckets.push({ key: keys.rateBucket('widget-key'), bucket: settings.widgetKey, scope: 'widget-key' });
    }
    return this.takeFrom(buckets, { tenantId, requestId });
  }

  private async takeFrom(
    buckets: { key: string; bucket: Bucket; scope: RateScope }[],
    who: { tenantId: string; requestId: string },
  ): Promise<RateDecision> {
    if (buckets.length === 0) return { allowed: true };
    let answer: unknown;
    try {
      answer = await withTimeout(
        TAKE.run(
          this.options.redis,
          buckets.map((b) => b.key),
          buckets.flatMap((b) => [b.bucket.ratePerSecond, b.bucket.burst]),
        ),
        this.options.storeTimeoutMs,
      );
    } catch (error) {
      this.storeFailed(error, who);
      return { allowed: true };
    }
    const [admitted, index, waitMs] = (answer as number[]).map(Number);
    if (admitted === 1) return { allowed: true };
    const refused = buckets[(index ?? 1) - 1] ?? buckets[0]!;
    return {
      allowed: false,
      scope: refused.scope,
      bucket: refused.bucket,
      retryAfterSeconds: Math.max(1, Math.ceil((waitMs ?? 1000) / 1000)),
    };
  }

  private storeFailed(error: unknown, who: { tenantId: string; requestId: string }): void {
    this.options.metrics.storeFailures.inc({ limit: 'rate' });
    // One line per 10 s at most: an outage must not flood the logs.
    if (Date.now() - this.lastFailureLog < 10_000) return;
    this.lastFailureLog = Date.now();
    this.options.logger.warn(
      { err: error, tenantId: who.tenantId, requestId: who.requestId },
      'rate limit store unavailable: admitting (fail open)',
    );
  }
}
