import { newId, type Logger, type Redis } from '@beedesk/runtime';
import { gatewayKeys } from '../keys';
import type { LimitMetrics } from './metrics';
import { RedisScript, withTimeout } from './redis-script';

/**
 * Takes a lease when the tenant has fewer than `limit` live ones. Scores are expiry times on Redis's
 * clock, so leases of a replica that died (and stopped renewing) drop out by themselves.
 * KEYS[1]: the tenant's lease set. ARGV: member, limit, ttl ms. Returns {1, open} or {0, open}.
 */
const ACQUIRE = new RedisScript(`
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local open = redis.call('ZCARD', KEYS[1])
if open >= tonumber(ARGV[2]) then return {0, open} end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
return {1, open + 1}
`);

/** Extends this replica's leases of one tenant (and puts back any that lapsed while Redis was away). ARGV: ttl ms, members… */
const RENEW = new RedisScript(`
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl = tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], now + ttl, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ttl)
return #ARGV - 1
`);

export interface SubscriptionLeasesOptions {
  redis: Redis;
  keyPrefix: string;
  /** Open subscriptions per tenant across all replicas; 0: no limit. */
  maxPerTenant: number;
  logger: Logger;
  metrics: LimitMetrics;
  storeTimeoutMs: number;
  /** A lease not renewed for this long is gone (a crashed replica's, within this time). */
  leaseTtlMs?: number;
  /** How often live leases are renewed; well under the TTL. */
  renewEveryMs?: number;
}

export interface SubscriptionLease {
  /** Idempotent: the lease goes at once, so the tenant may open another subscription. */
  release(): void;
}

export type LeaseResult = { ok: true; lease: SubscriptionLease } | { ok: false; limit: number; open: number };

/**
 * Counts each tenant's open subscriptions over every gateway replica: one sorted set of leases per
 * tenant in Redis, renewed by a heartbeat while the subscription lives and removed when it ends.
 * Redis unreachable: the subscription is admitted (fail open, as rate limits) and its lease is
 * written by the next heartbeat that reaches Redis.
 */
export class TenantSubscriptionLeases {
  /** This replica's live leases: tenant → members. */
  private readonly live = new Map<string, Set<string>>();
  private readonly replica = newId();
  private readonly ttlMs: number;
  private readonly heartbeat: NodeJS.Timeout | null;
  private lastFailureLog = 0;

  constructor(private readonly options: SubscriptionLeasesOptions) {
    this.ttlMs = options.leaseTtlMs ?? 30_000;
    this.heartbeat =
      options.maxPerTenant > 0 ? setInterval(() => void this.renew(), options.renewEveryMs ?? Math.floor(this.ttlMs / 3)) : null;
    this.heartbeat?.unref();
  }

  get maxPerTenant(): number {
    return this.options.maxPerTenant;
  }

  async acquire(tenantId: string): Promise<LeaseResult> {
    if (this.options.maxPerTenant <= 0) return { ok: true, lease: { release: () => undefined } };
    const key = gatewayKeys(this.options.keyPrefix, tenantId).subscriptionLeases;
    const member = `${this.replica}:${newId()}`;
    try {
      const answer = (await withTimeout(
        ACQUIRE.run(this.options.redis, [key], [member, this.options.maxPerTenant, this.ttlMs]),
        this.options.storeTimeoutMs,
      )) as number[];
      const [granted, open] = answer.map(Number);
      if (granted !== 1) return { ok: false, limit: this.options.maxPerTenant, open: open ?? this.options.maxPerTenant };
    } catch (error) {
      this.storeFailed(error, tenantId);
    }
    let members = this.live.get(tenantId);
    if (!members) this.live.set(tenantId, (members = new Set()));
    members.add(member);
    let released = false;
    return {
      ok: true,
      lease: {
        release: () => {
          if (released) return;
          released = true;
          this.forget(tenantId, member);
          this.options.redis.zrem(key, member).catch((error: unknown) => this.storeFailed(error, tenantId));
        },
      },
    };
  }

  /** Leases this replica holds now (all tenants). */
  get held(): number {
    let count = 0;
    for (const members of this.live.values()) count += members.size;
    return count;
  }

  /** Stops the heartbeat; the subscriptions' own ends release their leases. */
  close(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
  }

  private forget(tenantId: string, member: string): void {
    const members = this.live.get(tenantId);
    members?.delete(member);
    if (members?.size === 0) this.live.delete(tenantId);
  }

  private async renew(): Promise<void> {
    for (const [tenantId, members] of this.live) {
      const key = gatewayKeys(this.options.keyPrefix, tenantId).subscriptionLeases;
      const renewed = [...members];
      try {
        await withTimeout(RENEW.run(this.options.redis, [key], [this.ttlMs, ...renewed]), this.options.storeTimeoutMs);
        // A lease released while the renewal was on its way was just put back: take it out again.
        const gone = renewed.filter((member) => !this.live.get(tenantId)?.has(member));
        if (gone.length > 0) await this.options.redis.zrem(key, ...gone);
      } catch (error) {
        this.storeFailed(error, tenantId);
      }
    }
  }

  private storeFailed(error: unknown, tenantId: string): void {
    this.options.metrics.storeFailures.inc({ limit: 'subscriptions' });
    if (Date.now() - this.lastFailureLog < 10_000) return;
    this.lastFailureLog = Date.now();
    this.options.logger.warn({ err: error, tenantId }, 'subscription lease store unavailable: admitting (fail open)');
  }
}
