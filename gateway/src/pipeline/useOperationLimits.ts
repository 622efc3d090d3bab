import type { GatewayLimits } from '../limits';
import type { AdmissionPlugin } from './plugin';

/** Introspection, depth and cost of the picked operation (no I/O). */
export function useOperationLimits(limits: GatewayLimits): AdmissionPlugin {
  return {
    name: 'useOperationLimits',
    onOperation: (_connection, { document, operation }, params) =>
      limits.checkOperation(document, operation, params.variables) ?? undefined,
  };
}
