import type { Redis } from '@beedesk/runtime';
import { gatewayKeys } from '../keys';

/**
 * A day. A registered document is read on every later request, and a miss costs a client only one
 * extra round trip (it re-sends the query), so the TTL does not need to be long to be effective: it
 * only bounds how long documents nobody sends any more stay in Redis (about one day of a tenant's
 * distinct documents), while a client active at least daily misses at most once a day.
 */
export const DEFAULT_APQ_TTL_SECONDS = 24 * 60 * 60;

/**
 * Automatic persisted queries in the Redis every gateway replica shares, under the caller's tenant:
 * a document registered by one tenant (it may embed that tenant's literals) is unknown to others.
 */
export class ApqStore {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly ttlSeconds: number = DEFAULT_APQ_TTL_SECONDS,
  ) {}

  async get(tenantId: string, sha256Hash: string): Promise<string | null> {
    return this.redis.get(gatewayKeys(this.keyPrefix, tenantId).apq(sha256Hash));
  }

  async put(tenantId: string, sha256Hash: string, query: string): Promise<void> {
    await this.redis.set(gatewayKeys(this.keyPrefix, tenantId).apq(sha256Hash), query, 'EX', this.ttlSeconds);
  }
}
