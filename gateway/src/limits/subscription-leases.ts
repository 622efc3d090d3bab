import { newId, type Logger, type Redis } from '@beedesk/runtime';
import { gatewayKeys } from '../keys';
import type { LimitMetrics } from './metrics';
import { RedisScript, withTimeout } from './redis-script';

/**
 * Takes one lease in every set when each has fewer live ones than its limit (all or none). Scores are
 * expiry times on Redis's clock, so leases of a replica that died (and stopped renewing) drop out by
 * themselves. KEYS: lease sets, all of one tenant (one hash tag). ARGV: member, ttl ms, then the limit
 * of each key in order. Returns {1} or {0, index of the full set (1-based), its open leases}.
 */
const ACQUIRE = new RedisScript(`
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl = tonumber(ARGV[2])
for i = 1, #KEYS do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
  local open = redis.call('ZCARD', KEYS[i])
  if open >= tonumber(ARGV[2 + i]) then return {0, i, open} end
end
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], now + ttl, ARGV[1])
  redis.call('PEXPIRE', KEYS[i], ttl)
end
return {1}
`);

/** Extends this replica's leases in one set (and puts back any that lapsed while Redis was away). ARGV: ttl ms, members… */
const RENEW = new RedisScript(`
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl = tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], now + ttl, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ttl)
return #ARGV - 1
`);

export interface LeaseStoreOptions {
  redis: Redis;
  logger: Logger;
  metrics: LimitMetrics;
  storeTimeoutMs: number;
  /** The `limit` label of store failures (metrics). */
  label: string;
  /** A lease not renewed for this long is gone (a crashed replica's, within this time). */
  leaseTtlMs?: number;
  /** How often live leases are renewed; well under the TTL. */
  renewEveryMs?: number;
}

export interface SubscriptionLease {
  /** Idempotent: the lease goes at once, so the tenant (user) may open another one. */
  release(): void;
}

/** One count a lease is taken in: its Redis set and how many live leases it may hold. */
export interface LeaseScope<S extends string> {
  scope: S;
  key: string;
  limit: number;
}

export type ScopedLeaseResult<S extends string> =
  { ok: true; lease: SubscriptionLease } | { ok: false; scope: S; limit: number; open: number };

/**
 * Counts open things (subscriptions, sockets) over every gateway replica: a sorted set of leases per
 * scope (a tenant, one of its users) in Redis, renewed by a heartbeat while the thing lives and removed
 * when it ends. Redis unreachable: admitted (fail open, as rate limits) and the lease is written by the
 * next heartbeat that reaches Redis.
 */
export class LeaseStore {
  /** This replica's live leases: set key → its tenant (for logs) and members. */
  private readonly live = new Map<string, { tenantId: string; members: Set<string> }>();
  private readonly replica = newId();
  private readonly ttlMs: number;
  private heartbeat: NodeJS.Timeout | null = null;
  private lastFailureLog = 0;

  constructor(private readonly options: LeaseStoreOptions) {
    this.ttlMs = options.leaseTtlMs ?? 30_000;
  }

  /** Takes a lease in every scope with a limit above 0, or in none (the first full scope is answered). */
  async acquire<S extends string>(tenantId: string, scopes: LeaseScope<S>[]): Promise<ScopedLeaseResult<S>> {
    const limited = scopes.filter((s) => s.limit > 0);
    if (limited.length === 0) return { ok: true, lease: { release: () => undefined } };
    this.startHeartbeat();
    const member = `${this.replica}:${newId()}`;
    const keys = limited.map((s) => s.key);
    try {
      const answer = (await withTimeout(
        ACQUIRE.run(this.options.redis, keys, [member, this.ttlMs, ...limited.map((s) => s.limit)]),
        this.options.storeTimeoutMs,
      )) as number[];
      const [granted, index, open] = answer.map(Number);
      if (granted !== 1) {
        const full = limited[(index ?? 1) - 1] ?? limited[0]!;
        return { ok: false, scope: full.scope, limit: full.limit, open: open ?? full.limit };
      }
    } catch (error) {
      this.storeFailed(error, tenantId);
    }
    for (const key of keys) {
      let entry = this.live.get(key);
      if (!entry) this.live.set(key, (entry = { tenantId, members: new Set() }));
      entry.members.add(member);
    }
    let released = false;
    return {
      ok: true,
      lease: {
        release: () => {
          if (released) return;
          released = true;
          const pipeline = this.options.redis.pipeline();
          for (const key of keys) {
            this.forget(key, member);
            pipeline.zrem(key, member);
          }
          pipeline.exec().catch((error: unknown) => this.storeFailed(error, tenantId));
        },
      },
    };
  }

  /** Leases this replica holds now, per scope key summed (a subscription leased per tenant and per user counts twice). */
  get held(): number {
    let count = 0;
    for (const { members } of this.live.values()) count += members.size;
    return count;
  }

  /** Stops the heartbeat; the leases' own ends release them. */
  close(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private startHeartbeat(): void {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => void this.renew(), this.options.renewEveryMs ?? Math.floor(this.ttlMs / 3));
    this.heartbeat.unref();
  }

  private forget(key: string, member: string): void {
    const entry = this.live.get(key);
    entry?.members.delete(member);
    if (entry?.members.size === 0) this.live.delete(key);
  }

  private async renew(): Promise<void> {
    for (const [key, { tenantId, members }] of this.live) {
      const renewed = [...members];
      try {
        await withTimeout(RENEW.run(this.options.redis, [key], [this.ttlMs, ...renewed]), this.options.storeTimeoutMs);
        // A lease released while the renewal was on its way was just put back: take it out again.
        const gone = renewed.filter((member) => !this.live.get(key)?.members.has(member));
        if (gone.length > 0) await this.options.redis.zrem(key, ...gone);
      } catch (error) {
        this.storeFailed(error, tenantId);
      }
    }
  }

  private storeFailed(error: unknown, tenantId: string): void {
    this.options.metrics.storeFailures.inc({ limit: this.options.label });
    if (Date.now() - this.lastFailureLog < 10_000) return;
    this.lastFailureLog = Date.now();
    this.options.logger.warn({ err: error, tenantId }, `${this.options.label} lease store unavailable: admitting (fail open)`);
  }
}

export interface SubscriptionLeasesOptions extends Omit<LeaseStoreOptions, 'label'> {
  keyPrefix: string;
  /** Open subscriptions per tenant across all replicas; 0: no limit. */
  maxPerTenant: number;
  /** Open subscriptions per user of a tenant across all replicas; 0 or absent: no limit. */
  maxPerUser?: number;
}

export type LeaseResult = ScopedLeaseResult<'tenant' | 'user'>;

/**
 * Each tenant's and each of its users' open subscriptions over every gateway replica (graphql-ws and
 * SSE alike): a subscription takes a lease in both counts or in neither.
 */
export class TenantSubscriptionLeases {
  private readonly store: LeaseStore;

  constructor(private readonly options: SubscriptionLeasesOptions) {
    this.store = new LeaseStore({ ...options, label: 'subscriptions' });
  }

  get maxPerTenant(): number {
    return this.options.maxPerTenant;
  }

  /** `userId` absent: the tenant's count only. */
  acquire(tenantId: string, userId?: string): Promise<LeaseResult> {
    const keys = gatewayKeys(this.options.keyPrefix, tenantId);
    const scopes: LeaseScope<'tenant' | 'user'>[] = [{ scope: 'tenant', key: keys.subscriptionLeases, limit: this.options.maxPerTenant }];
    if (userId !== undefined) scopes.push({ scope: 'user', key: keys.userSubscriptionLeases(userId), limit: this.options.maxPerUser ?? 0 });
    return this.store.acquire(tenantId, scopes);
  }

  get held(): number {
    return this.store.held;
  }

  close(): void {
    this.store.close();
  }
}

export interface SocketLeasesOptions extends Omit<LeaseStoreOptions, 'label'> {
  keyPrefix: string;
  /** Open graphql-ws sockets per user of a tenant across all replicas, idle ones included; 0: no limit. */
  maxPerUser: number;
}

/** Each user's open graphql-ws sockets over every gateway replica, from connection_init until the socket closes. */
export class UserSocketLeases {
  private readonly store: LeaseStore;

  constructor(private readonly options: SocketLeasesOptions) {
    this.store = new LeaseStore({ ...options, label: 'sockets' });
  }

  get maxPerUser(): number {
    return this.options.maxPerUser;
  }

  acquire(tenantId: string, userId: string): Promise<ScopedLeaseResult<'user'>> {
    const key = gatewayKeys(this.options.keyPrefix, tenantId).userSocketLeases(userId);
    return this.store.acquire(tenantId, [{ scope: 'user', key, limit: this.options.maxPerUser }]);
  }

  get held(): number {
    return this.store.held;
  }

  close(): void {
    this.store.close();
  }
}
