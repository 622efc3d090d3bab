import type { GatewayLimits } from '../limits';
import type { AdmissionPlugin } from './plugin';

/** Request rates per tenant and API key (Redis, shared by replicas): every HTTP request and every graphql-ws subscribe. */
export function useRateLimit(limits: GatewayLimits): AdmissionPlugin {
  return {
    name: 'useRateLimit',
    onRequest: async (connection) => (await limits.takeRequest(connection)) ?? undefined,
  };
}
