import type { Redis } from '@beedesk/runtime';
import { gatewayKeys } from '../keys';
import { RedisScript } from '../limits/redis-script';

/**
 * A day. A registered document is read on every later request, and a miss costs a client only one
 * extra round trip (it re-sends the query), so the TTL does not need to be long to be effective: it
 * only bounds how long documents nobody sends any more stay in Redis (about one day of a tenant's
 * distinct documents), while a client active at least daily misses at most once a day.
 */
export const DEFAULT_APQ_TTL_SECONDS = 24 * 60 * 60;

/** Per tenant: registered documents alive at once, and their bytes (APQ_MAX_PER_TENANT, APQ_MAX_BYTES_PER_TENANT). */
export interface ApqCaps {
  maxCount: number;
  maxBytes: number;
}
export const DEFAULT_APQ_CAPS: ApqCaps = { maxCount: 10_000, maxBytes: 50 * 1024 * 1024 };

export type ApqPut = { ok: true } | { ok: false; scope: 'count' | 'bytes'; limit: number };

/**
 * Registers one document under a tenant's cap. KEYS: the document, the tenant's index (sorted set
 * of hashes by expiry, seconds) and sizes (hash: bytes per hash, and `total`). ARGV: hash, text, TTL
 * seconds, most documents, most bytes. Registrations that expired are dropped from the index first
 * (at most 100 per call; the cap bounds what is left). A document already registered is refreshed.
 * Returns {1}, or {0, 1} over the count cap, {0, 2} over the bytes cap.
 */
const PUT = new RedisScript(`
local now = tonumber(redis.call('TIME')[1])
local ttl = tonumber(ARGV[3])
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 100)
for _, hash in ipairs(expired) do
  local size = tonumber(redis.call('HGET', KEYS[3], hash) or '0')
  redis.call('HINCRBY', KEYS[3], 'total', -size)
  redis.call('HDEL', KEYS[3], hash)
  redis.call('ZREM', KEYS[2], hash)
end
local size = string.len(ARGV[2])
if not redis.call('HGET', KEYS[3], ARGV[1]) then
  if redis.call('ZCARD', KEYS[2]) + 1 > tonumber(ARGV[4]) then return {0, 1} end
  if tonumber(redis.call('HGET', KEYS[3], 'total') or '0') + size > tonumber(ARGV[5]) then return {0, 2} end
  redis.call('HSET', KEYS[3], ARGV[1], size)
  redis.call('HINCRBY', KEYS[3], 'total', size)
end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ttl)
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
redis.call('EXPIRE', KEYS[2], ttl)
redis.call('EXPIRE', KEYS[3], ttl)
return {1}
`);

/**
 * Automatic persisted queries in the Redis every gateway replica shares, under the caller's tenant:
 * a document registered by one tenant (it may embed that tenant's literals) is unknown to others.
 * Each tenant may keep at most `caps` documents and bytes registered at once.
 */
export class ApqStore {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly ttlSeconds: number = DEFAULT_APQ_TTL_SECONDS,
    private readonly caps: ApqCaps = DEFAULT_APQ_CAPS,
  ) {}

  async get(tenantId: string, sha256Hash: string): Promise<string | null> {
    return this.redis.get(gatewayKeys(this.keyPrefix, tenantId).apq(sha256Hash));
  }

  async put(tenantId: string, sha256Hash: string, query: string): Promise<ApqPut> {
    const keys = gatewayKeys(this.keyPrefix, tenantId);
    const reply = (await PUT.run(
      this.redis,
      [keys.apq(sha256Hash), keys.apqIndex, keys.apqSizes],
      [sha256Hash, query, this.ttlSeconds, this.caps.maxCount, this.caps.maxBytes],
    )) as number[];
    if (reply[0] === 1) return { ok: true };
    return reply[1] === 1
      ? { ok: false, scope: 'count', limit: this.caps.maxCount }
      : { ok: false, scope: 'bytes', limit: this.caps.maxBytes };
  }
}
