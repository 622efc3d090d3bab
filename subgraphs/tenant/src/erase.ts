import { badInput, nodesOf, outboxTenantsKey, tenantChannels, tenantKeys, type CredentialsChange, type Redis } from '@beedesk/runtime';
import { requireAdmin } from './admin';
import type { TenantSubgraphContext } from './context';

/** What eraseTenant removed. */
export interface TenantErasure {
  /** Every Redis key deleted under the tenant's hash tag. */
  keys: number;
  sessions: number;
  answers: number;
  articles: number;
}

/** Keys per SCAN step and per UNLINK. */
const SCAN_COUNT = 500;
/** Passes over the tenant's keys: a pass that deletes nothing ends it early. */
const MAX_PASSES = 3;

/**
 * Deletes every key of one tenant. All of a tenant's keys share its hash tag (`{tenantId}`), so
 * `SCAN MATCH <prefix>:{<tenant>}:*` finds them all, and a batch of them can go in one UNLINK
 * (one slot). On Redis Cluster they all live on the node owning that slot: run this against that
 * node (or walk `CLUSTER GETKEYSINSLOT <slot>` there), not across the cluster.
 */
export class TenantEraser {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async erase(tenantId: string): Promise<TenantErasure> {
    const keys = tenantKeys(this.prefix, tenantId);
    const kinds = {
      sessions: new RegExp(`^${escapeRegExp(keys.base)}:session:[^:]+$`),
      answers: new RegExp(`^${escapeRegExp(keys.base)}:answer:[^:]+$`),
      articles: new RegExp(`^${escapeRegExp(keys.base)}:article:[^:]+$`),
    };
    const erased: TenantErasure = { keys: 0, sessions: 0, answers: 0, articles: 0 };
    // Tenant ids and prefixes are [a-z0-9-]: nothing in the pattern is a glob character but the `*`.
    const match = `${keys.base}:*`;
    // A worker may still write between passes (its claim is gone, so only until it notices): sweep again.
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      let deletedThisPass = 0;
      // The tenant's keys share one slot, so on a Redis Cluster one master holds them all; which one
      // can change mid-erase (a failover), so every master is scanned. UNLINK goes through the client.
      for (const node of nodesOf(this.redis)) {
        let cursor = '0';
        do {
          const [next, found] = await node.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT);
          cursor = next;
          if (found.length === 0) continue;
          const deleted = await this.redis.unlink(...found);
          deletedThisPass += deleted;
          for (const key of found) {
            if (kinds.sessions.test(key)) erased.sessions++;
            else if (kinds.answers.test(key)) erased.answers++;
            else if (kinds.articles.test(key)) erased.articles++;
          }
        } while (cursor !== '0');
      }
      erased.keys += deletedThisPass;
      if (deletedThisPass === 0) break;
    }
    // Its id leaves the one platform index too (the ask-outbox sweeper's list of tenants).
    await this.redis.zrem(outboxTenantsKey(this.prefix), tenantId);
    // Inference replicas drop the tenant's model: its kb-version is gone and the article set is empty.
    await this.redis.publish(keys.kbChanged, 'erase');
    // Gateways end the tenant's open subscriptions (tenantActivity of an erased tenant must stop).
    const change: CredentialsChange = { kind: 'tenant-erased' };
    await this.redis.publish(tenantChannels(this.prefix, tenantId).credentials, JSON.stringify(change));
    return erased;
  }
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Admin: erases the caller's own tenant. `confirmTenantId` must repeat the tenant's id, so a
 * mistaken or replayed call cannot erase a tenant by accident.
 */
export async function eraseTenant(
  _root: unknown,
  { confirmTenantId }: { confirmTenantId: string },
  context: TenantSubgraphContext,
): Promise<TenantErasure> {
  requireAdmin(context, 'erase it');
  const { tenantId } = context.caller;
  if (confirmTenantId !== tenantId) throw badInput('confirmTenantId: must be the id of your own tenant', 'confirmTenantId');
  const erased = await context.eraser.erase(tenantId);
  context.log.warn(erased, 'tenant erased');
  return erased;
}
