import { keyPart, tenantKeyBase } from '@beedesk/runtime';

/**
 * The gateway's own Redis keys of a tenant, under the tenant's hash tag (runtime's tenantKeyBase), so
 * they share its slot and cannot name another tenant. No service but the gateway reads them.
 */
export function gatewayKeys(prefix: string, tenantId: string) {
  const base = tenantKeyBase(prefix, tenantId);
  return {
    /** Rate limits: the token bucket of the tenant (`tenant`) or of one of its API keys (`api-key:<id>`). */
    rateBucket: (scope: 'tenant' | `api-key:${string}`) =>
      `${base}:rate:${scope === 'tenant' ? scope : `api-key:${keyPart(scope.slice(8))}`}`,
    /** Open subscriptions of the tenant on every gateway replica: sorted set of leases by expiry. */
    subscriptionLeases: `${base}:subscription-leases`,
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
