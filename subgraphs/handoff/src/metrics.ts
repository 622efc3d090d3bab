import { boundedLabel, createMetrics, type ServiceMetrics } from '@beedesk/runtime';
import { Gauge } from 'prom-client';

export interface HandoffMetrics extends ServiceMetrics {
  /** The assigner saw `waiting` conversations in the tenant's line (at most the 200 it reads). */
  lineSeen(tenantId: string, waiting: number): void;
}

/**
 * `beedesk_handoffs_waiting{tenant}`: conversations waiting for a human, per tenant, as the assigner
 * last counted them on this replica. Only the replica that holds a tenant's assigner lock counts it,
 * so a count older than `staleAfterMs` (the lock moved, or the line was forgotten) is dropped rather
 * than added twice: dashboards take `max by (tenant)` over replicas. At most 100 tenants per process
 * get their own series (later ones as `other`).
 */
export function createHandoffMetrics(defaultMetrics: boolean, staleAfterMs: number): HandoffMetrics {
  const base = createMetrics('handoff', defaultMetrics);
  const seen = new Map<string, { waiting: number; at: number }>();
  const tenantLabel = boundedLabel(100);
  new Gauge({
    name: 'beedesk_handoffs_waiting',
    help: 'Conversations waiting for a human agent, per tenant (as last counted by this replica; at most 200 per tenant)',
    labelNames: ['tenant'],
    registers: [base.registry],
    collect() {
      this.reset();
      const now = Date.now();
      const totals = new Map<string, number>();
      for (const [tenant, { waiting, at }] of seen) {
        if (now - at > staleAfterMs) seen.delete(tenant);
        else totals.set(tenantLabel(tenant), (totals.get(tenantLabel(tenant)) ?? 0) + waiting);
      }
      for (const [tenant, waiting] of totals) this.set({ tenant }, waiting);
    },
  });
  return {
    ...base,
    lineSeen: (tenantId, waiting) => seen.set(tenantId, { waiting, at: Date.now() }),
  };
}
