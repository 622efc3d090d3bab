import { CONTEXT_TTL_SECONDS, signContext } from '@beedesk/runtime';
import type { AdmissionPlugin } from './plugin';

/** Re-signed well before CONTEXT_TTL_SECONDS: a subscription's connection outlives one signature. */
const RESIGN_AFTER_MS = Math.min(60, CONTEXT_TTL_SECONDS / 2) * 1000;

/**
 * The caller signed for subgraphs (runtime's signed-context.ts, verified there): signed when first
 * needed, so refused requests cost no signature, and re-signed as it ages for long-lived connections.
 */
export function useSignedContext(internalSecret: string): AdmissionPlugin {
  return {
    name: 'useSignedContext',
    onConnected(connection) {
      let signed = '';
      let signedAt = 0;
      connection.signedContext = () => {
        const now = Date.now();
        if (now - signedAt > RESIGN_AFTER_MS) {
          signed = signContext(connection.caller, internalSecret);
          signedAt = now;
        }
        return signed;
      };
    },
  };
}
