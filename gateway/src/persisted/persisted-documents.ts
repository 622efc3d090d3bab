import type { Logger } from '@beedesk/runtime';
import type { Authentication } from '../caller';
import { isObject, type GraphQLParams } from '../graphql-request';
import type { ApqStore } from './apq-store';
import { sha256Hex, type ManifestOperation, type TrustedDocuments } from './manifest';

/** Error codes of this step (Apollo's where Apollo has one). */
export const PersistedCodes = {
  /** APQ: the hash is not registered (for this tenant); Apollo clients then re-send with the query. */
  notFound: 'PERSISTED_QUERY_NOT_FOUND',
  /** A trusted-documents-only caller sent a document that is not in the manifest. */
  notInList: 'PERSISTED_QUERY_NOT_IN_LIST',
  /** APQ registration whose query does not hash to the sha256Hash it was sent with. */
  hashMismatch: 'PERSISTED_QUERY_HASH_MISMATCH',
  /** APQ registration past the tenant's cap (APQ_MAX_PER_TENANT documents or APQ_MAX_BYTES_PER_TENANT bytes). */
  limitReached: 'PERSISTED_QUERY_LIMIT_REACHED',
  badRequest: 'BAD_REQUEST',
  unavailable: 'SERVICE_UNAVAILABLE',
} as const;

/** The document text to run, and whether it should be registered as an APQ once it validates. */
export interface DocumentRefusal {
  ok: false;
  status: number;
  code: string;
  message: string;
  extensions?: Record<string, unknown>;
}
export type ResolvedDocument = { ok: true; query: string; registerAs?: string } | DocumentRefusal;

export interface PersistedDocumentsOptions {
  trusted: TrustedDocuments;
  apq: ApqStore;
  /** GATEWAY_PERSISTED_ONLY: every caller may run manifest documents only. */
  requireTrusted: boolean;
  logger?: Logger;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const fail = (status: number, code: string, message: string): ResolvedDocument => ({ ok: false, status, code, message });
/** Apollo Server's answer, which Apollo clients recognise (also by message) and retry with the query. HTTP 200 like Apollo. */
const apqNotFound = fail(200, PersistedCodes.notFound, 'PersistedQueryNotFound');
const notInList = fail(
  400,
  PersistedCodes.notInList,
  'This caller may only run the persisted operations of the manifest (send its `documentId`).',
);

/** Operations a web-widget visitor may run: the manifest's operations whose name starts with this. */
export const WIDGET_OPERATION_PREFIX = 'Widget';
const notForVisitors = fail(
  400,
  PersistedCodes.notInList,
  "A widget visitor may only run the widget's persisted operations (named Widget…).",
);

/** `documentId` as in the manifest, also in the `sha256:<hex>` form of the GraphQL-over-HTTP persisted-documents draft. */
const manifestIdOf = (documentId: string): string => (documentId.startsWith('sha256:') ? documentId.slice('sha256:'.length) : documentId);

/**
 * Which document a request runs: a trusted document by `documentId`, an automatic persisted query
 * by `extensions.persistedQuery.sha256Hash` (looked up or registered under the caller's tenant), or
 * the `query` sent. Persisted-only callers (API keys so marked, or everyone with
 * GATEWAY_PERSISTED_ONLY) run manifest documents only.
 */
export function createPersistedDocuments(options: PersistedDocumentsOptions) {
  const persistedOnly = (auth: Authentication): boolean =>
    options.requireTrusted || auth.credential.kind === 'visitor' || (auth.credential.kind === 'api-key' && auth.credential.persistedOnly);
  /** Web-widget visitors run the widget's own operations only (clients/widget: every one is named Widget…). */
  const mayRun = (auth: Authentication, operation: ManifestOperation): boolean =>
    auth.credential.kind !== 'visitor' || operation.name.startsWith(WIDGET_OPERATION_PREFIX);

  async function byHash(auth: Authentication, hash: string, query: string | undefined): Promise<ResolvedDocument> {
    if (query !== undefined) {
      if (sha256Hex(query) !== hash)
        return fail(400, PersistedCodes.hashMismatch, 'The sha256 of `query` is not `extensions.persistedQuery.sha256Hash`.');
      const listed = options.trusted.get(hash);
      if (listed) return mayRun(auth, listed) ? { ok: true, query } : notForVisitors;
      if (persistedOnly(auth)) return notInList;
      return { ok: true, query, registerAs: hash };
    }
    const trusted = options.trusted.get(hash);
    if (trusted) return mayRun(auth, trusted) ? { ok: true, query: trusted.body } : notForVisitors;
    if (persistedOnly(auth)) return notInList;
    let stored: string | null;
    try {
      stored = await options.apq.get(auth.caller.tenantId, hash);
    } catch (error) {
      options.logger?.error({ err: error, tenantId: auth.caller.tenantId, requestId: auth.caller.requestId }, 'APQ lookup failed');
      return fail(503, PersistedCodes.unavailable, 'Persisted queries are unavailable right now; send the full query.');
    }
    return stored === null ? apqNotFound : { ok: true, query: stored };
  }

  return {
    async resolve(auth: Authentication, params: GraphQLParams): Promise<ResolvedDocument> {
      const { query, documentId } = params;
      if (documentId !== undefined) {
        const trusted = options.trusted.get(manifestIdOf(documentId));
        if (!trusted)
          return fail(400, PersistedCodes.notInList, `No persisted operation has the id ${JSON.stringify(documentId.slice(0, 80))}.`);
        if (query !== undefined && query !== trusted.body)
          return fail(400, PersistedCodes.badRequest, 'Send `documentId` or `query`, not two different documents.');
        if (!mayRun(auth, trusted)) return notForVisitors;
        return { ok: true, query: trusted.body };
      }
      const persistedQuery = params.extensions?.persistedQuery;
      if (persistedQuery !== undefined) {
        if (!isObject(persistedQuery) || persistedQuery.version !== 1) {
          return fail(
            400,
            PersistedCodes.badRequest,
            'Unsupported persisted query: `extensions.persistedQuery` must be {"version":1,"sha256Hash":"<hex>"}.',
          );
        }
        const hash = persistedQuery.sha256Hash;
        if (typeof hash !== 'string' || !SHA256_HEX.test(hash)) {
          return fail(400, PersistedCodes.badRequest, '`extensions.persistedQuery.sha256Hash` must be 64 lower-case hex digits.');
        }
        return byHash(auth, hash, query);
      }
      if (query === undefined) return fail(400, PersistedCodes.badRequest, 'A `query` string is required.');
      if (!persistedOnly(auth)) return { ok: true, query };
      const listed = options.trusted.get(sha256Hex(query));
      if (!listed) return notInList;
      return mayRun(auth, listed) ? { ok: true, query } : notForVisitors;
    },

    /**
     * Stores an admitted APQ registration, or refuses it past the tenant's cap. A store failure only
     * costs the next request a miss, so it is logged, not raised.
     */
    async register(auth: Authentication, hash: string, query: string): Promise<DocumentRefusal | null> {
      try {
        const put = await options.apq.put(auth.caller.tenantId, hash, query);
        if (put.ok) return null;
        const what = put.scope === 'count' ? `${put.limit} persisted queries` : `persisted queries of nearly ${put.limit} bytes`;
        return {
          ok: false,
          status: 400,
          code: PersistedCodes.limitReached,
          message: `This tenant has ${what} registered, the most allowed; send the query without \`extensions.persistedQuery\`, or wait for older ones to expire.`,
          extensions: { scope: put.scope, limit: put.limit },
        };
      } catch (error) {
        options.logger?.warn({ err: error, tenantId: auth.caller.tenantId, requestId: auth.caller.requestId }, 'APQ registration failed');
        return null;
      }
    },
  };
}
export type PersistedDocuments = ReturnType<typeof createPersistedDocuments>;
