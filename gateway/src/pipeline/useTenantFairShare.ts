import type { GatewayLimits } from '../limits';
import type { AdmissionPlugin } from './plugin';

/**
 * Front-door fairness between tenants (limits/fair-share.ts): an admitted operation waits for an
 * execution slot in its tenant's queue; slots go round robin between tenants by weight, so one
 * tenant's burst waits behind itself while another tenant's operation takes the next free slot.
 * The transport releases the slot when the operation has executed, however it ended.
 *
 * A subscription waits its turn like any operation (a flood of subscribes cannot jump the queue)
 * but gives its slot back at once: it lives for minutes, mostly idle, and holding a slot that long
 * would let open subscriptions starve asks; their number is bounded by the subscription caps.
 */
export function useTenantFairShare(limits: GatewayLimits): AdmissionPlugin {
  return {
    name: 'useTenantFairShare',
    // A tenant whose queue is full is refused before its request's body is read.
    onRequest: (connection) => limits.checkQueue(connection) ?? undefined,
    async onSchedule(connection, { operation }, { signal }) {
      const slot = await limits.takeSlot(connection, signal);
      if (typeof slot !== 'function') return slot;
      if (operation.operation === 'subscription') {
        slot();
        return undefined;
      }
      return slot;
    },
  };
}
