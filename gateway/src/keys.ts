import { keyPart, tenantKeyBase } from '@beedesk/runtime';

/**
 * The gateway's own Redis keys of a tenant, under the tenant's hash tag (runtime's tenantKeyBase), so
 * they share its slot and cannot name another tenant. No service but the gateway reads them.
 */
export function gatewayKeys(prefix: string, tenantId: string) {
  const base = tenantKeyBase(prefix, tenantId);
  return {
    /** Rate limits: the token bucket of the tenant (`tenant`), of one of its API keys (`api-key:<id>`) or users (`user:<id>`). */
    rateBucket: (scope: 'tenant' | 'widget-key' | `api-key:${string}` | `user:${string}` | `widget-ip:${string}`) => {
      if (scope === 'tenant' || scope === 'widget-key') return `${base}:rate:${scope}`;
      const split = scope.indexOf(':');
      return `${base}:rate:${scope.slice(0, split)}:${keyPart(scope.slice(split + 1))}`;
    },
    /** Open subscriptions of the tenant on every gateway replica: sorted set of leases by expiry. */
    subscriptionLeases: `${base}:subscription-leases`,
    /** The same, of one user of the tenant. */
    userSubscriptionLeases: (userId: string) => `${base}:user:${keyPart(userId)}:subscription-leases`,
    /** Open WebSockets of one user of the tenant on every gateway replica (idle ones included). */
    userSocketLeases: (userId: string) => `${base}:user:${keyPart(userId)}:socket-leases`,
    /**
     * An automatic persisted query (APQ) this tenant registered, by the sha256 of its text: under the
     * tenant, because a document may embed one tenant's literals and no other tenant may read it.
     */
    apq: (sha256Hash: string) => `${base}:apq:${sha256Hash}`,
    /** The tenant's APQ entries by last registration, and their sizes: the per-tenant APQ caps. */
    apqIndex: `${base}:apq-index`,
    apqSizes: `${base}:apq-sizes`,
  };
}
export type GatewayKeys = ReturnType<typeof gatewayKeys>;
