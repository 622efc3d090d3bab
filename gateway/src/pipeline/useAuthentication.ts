import { anonymousCaller, type Authenticator } from '../caller';
import type { AdmissionPlugin } from './plugin';
import { refusal } from './refusal';

/**
 * How callers are identified, chosen explicitly: `beedesk` authenticates every caller (JWT or partner
 * API key) and answers with beedesk's error codes; `generic` (`--auth none`) serves any supergraph with
 * every caller anonymous and answers subgraph HTTP failures as @apollo/gateway does.
 */
export type GatewayMode = { kind: 'beedesk'; authenticate: Authenticator } | { kind: 'generic' };

/** Who is calling, from the credentials of the HTTP request or of graphql-ws connection_init. */
export function useAuthentication(mode: GatewayMode): AdmissionPlugin {
  if (mode.kind === 'generic') return { name: 'useAuthentication(generic)', onAuthenticate: ({ requestId }) => anonymousCaller(requestId) };
  return {
    name: 'useAuthentication',
    async onAuthenticate({ credentials, requestId }) {
      let result;
      try {
        result = await mode.authenticate(credentials, requestId);
      } catch {
        // The key store (Redis) did not answer: the caller may be fine, so not 401, and nothing to leak.
        return refusal(503, 'SERVICE_UNAVAILABLE', 'Credentials cannot be checked right now; try again shortly.', { 'retry-after': '1' });
      }
      if (!result.ok)
        return refusal(
          401,
          'UNAUTHENTICATED',
          result.message,
          { 'www-authenticate': 'Bearer' },
          result.reason ? { reason: result.reason } : {},
        );
      return { caller: result.caller, expiresAt: result.expiresAt, credential: result.credential };
    },
  };
}
