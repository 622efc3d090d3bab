import type { IncomingMessage } from 'node:http';
import type { Caller } from '@beedesk/runtime';

/** What a client presented: `Authorization: Bearer <jwt>` and/or a partner API key. */
export interface Credentials {
  authorization?: string;
  apiKey?: string;
  /** The page origin (HTTP `Origin`, or the WebSocket upgrade's): visitor tokens work only from theirs. */
  origin?: string;
  /** `widget`: the request came to /widget/graphql, which takes visitor tokens only. */
  surface?: 'api' | 'widget';
}

/** The credentials of an HTTP (and SSE) request: `Authorization` and `x-api-key`. */
export const credentialsOf = (req: IncomingMessage, surface: 'api' | 'widget' = 'api'): Credentials => ({
  authorization: req.headers.authorization,
  apiKey: typeof req.headers['x-api-key'] === 'string' ? req.headers['x-api-key'] : undefined,
  origin: typeof req.headers.origin === 'string' ? req.headers.origin : undefined,
  surface,
});

/** How the caller proved who it is; some rules (persisted-only keys, per-key limits) depend on it. */
export type Credential =
  | { kind: 'jwt' }
  | { kind: 'api-key'; keyId: string; persistedOnly: boolean }
  /** A web-widget visitor (useVisitorTokens): a customer limited to the widget's persisted operations, from one origin. */
  | { kind: 'visitor'; origin: string }
  /** Generic mode (`--auth none`). */
  | { kind: 'anonymous' };

/**
 * A verified caller with what the gateway knows about its proof: the caller (the one `Caller` type,
 * signed to subgraphs), when its proof expires and what the proof was.
 */
export interface Authentication {
  caller: Caller;
  /** Seconds since the epoch; null when the credential does not expire (API keys, generic mode). */
  expiresAt: number | null;
  credential: Credential;
}

/** `reason`: a finer cause a client can act on (e.g. `TOKEN_ISSUER_NOT_TRUSTED`), sent as `extensions.reason`. */
export type AuthResult = ({ ok: true } & Authentication) | { ok: false; message: string; reason?: string };

export type Authenticator = (credentials: Credentials, requestId: string) => Promise<AuthResult>;

/** Generic mode (`--auth none`): every request runs as one anonymous caller. */
export const anonymousCaller = (requestId: string): Authentication => ({
  caller: { tenantId: 'public', userId: 'anonymous', roles: [], requestId },
  expiresAt: null,
  credential: { kind: 'anonymous' },
});
