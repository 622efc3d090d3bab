import type { VisitorTokens } from '../widget/visitor-tokens';
import { isVisitorToken } from '../widget/visitor-tokens';
import type { AdmissionPlugin } from './plugin';
import { refusal } from './refusal';

const unauthenticated = (message: string) => refusal(401, 'UNAUTHENTICATED', message, { 'www-authenticate': 'Bearer' });

/**
 * Web-widget visitors (phase 1, before useAuthentication): a bearer token issued by the widget-key
 * exchange (widget/exchange.ts) is verified here and only here, and only from the page origin it was
 * issued to (HTTP `Origin`, or the WebSocket upgrade's). The widget endpoint (`/widget/graphql`, whose
 * CORS answers any origin) admits visitor tokens only. Visitors are customers whose operations are the
 * widget's persisted ones (usePersistedDocuments).
 */
export function useVisitorTokens(tokens: VisitorTokens): AdmissionPlugin {
  return {
    name: 'useVisitorTokens',
    async onAuthenticate({ credentials, requestId }) {
      const match = /^Bearer\s+(\S+)$/i.exec(credentials.authorization?.trim() ?? '');
      const token = match?.[1];
      if (!token || !isVisitorToken(token)) {
        return credentials.surface === 'widget' ? unauthenticated('The widget endpoint takes visitor tokens only.') : undefined;
      }
      if (credentials.apiKey) return unauthenticated('Send either a visitor token or an API key, not both.');
      const verified = await tokens.verify(token);
      if (!verified.ok) return unauthenticated(verified.message);
      const { claims } = verified;
      if (credentials.origin !== claims.origin) return unauthenticated('This visitor token was issued to another origin.');
      return {
        caller: { tenantId: claims.tenantId, userId: claims.userId, roles: ['customer'], requestId },
        expiresAt: claims.expiresAt,
        credential: { kind: 'visitor', origin: claims.origin },
      };
    },
  };
}
