import type { Redis } from '@beedesk/runtime';
import { GraphQLError } from 'graphql';
import { anonymousCaller, type Authenticator, type Caller, type Credentials } from './caller';
import { selectOperation, type DocumentCache, type SelectedOperation } from './documents';
import type { GraphQLParams } from './graphql-request';
import type { GatewayLimits } from './limits';
import type { PersistedDocuments } from './persisted';

/** The operation to plan, with the document text it came from (sent, or looked up by id or hash). */
export type AdmittedOperation = Extract<SelectedOperation, { ok: true }> & { query: string };

/** A refusal as a value: the HTTP status, the GraphQL errors (each with its code) and any headers (Retry-After). */
export interface Refusal {
  ok: false;
  status: number;
  errors: GraphQLError[];
  headers?: Record<string, string>;
}

export const refusal = (
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
  extensions: Record<string, unknown> = {},
): Refusal => ({
  ok: false,
  status,
  errors: [new GraphQLError(message, { extensions: { code, ...extensions } })],
  headers,
});

export interface AdmissionOptions {
  documents: DocumentCache;
  /** null: generic mode, every request is anonymous (`--auth none`). */
  authenticate: Authenticator | null;
  /** Shared by every gateway replica (persisted documents, rate limits, subscription counts). */
  redis: Redis;
  keyPrefix: string;
  /** Rate limits, introspection, depth and cost (gateway/src/limits). */
  limits: GatewayLimits;
  /** Trusted documents (manifest), APQ and persisted-only callers. */
  persisted: PersistedDocuments;
}

/**
 * Everything a request passes before it is planned, in one place for HTTP, SSE and graphql-ws:
 * who is calling, then which document it may run. Each step refuses with its own code.
 */
export function createAdmission(options: AdmissionOptions) {
  return {
    async authenticate(credentials: Credentials, requestId: string): Promise<({ ok: true } & Caller) | Refusal> {
      if (!options.authenticate) return { ok: true, ...anonymousCaller(requestId) };
      let result;
      try {
        result = await options.authenticate(credentials, requestId);
      } catch {
        // The key store (Redis) did not answer: the caller may be fine, so not 401, and nothing to leak.
        return refusal(503, 'SERVICE_UNAVAILABLE', 'Credentials cannot be checked right now; try again shortly.', { 'retry-after': '1' });
      }
      if (!result.ok) return refusal(401, 'UNAUTHENTICATED', result.message, { 'www-authenticate': 'Bearer' });
      return result;
    },

    /** One request (HTTP) or subscribe (graphql-ws) of the caller, before its body is read: rate limits. */
    async admitRequest(caller: Caller): Promise<{ ok: true } | Refusal> {
      return (await options.limits.takeRequest(caller)) ?? { ok: true };
    },

    /** The document the caller may run: looked up, parsed and validated (cached), its operation picked. */
    async admitOperation(caller: Caller, params: GraphQLParams): Promise<AdmittedOperation | Refusal> {
      const resolved = await options.persisted.resolve(caller, params);
      if (!resolved.ok) return refusal(resolved.status, resolved.code, resolved.message);
      const selected = selectOperation(options.documents, resolved.query, params.operationName);
      if (!selected.ok) return { ok: false, status: 400, errors: selected.errors };
      const limited = options.limits.checkOperation(selected.document, selected.operation, params.variables);
      if (limited) return limited;
      // Only documents that parse and validate are registered as APQs.
      if (resolved.registerAs) await options.persisted.register(caller, resolved.registerAs, resolved.query);
      return { ...selected, query: resolved.query };
    },
  };
}
export type Admission = ReturnType<typeof createAdmission>;
