import type { Logger } from '@beedesk/runtime';
import type { Caller } from '../caller';
import { isObject, type GraphQLParams } from '../graphql-request';
import type { ApqStore } from './apq-store';
import { sha256Hex, type TrustedDocuments } from './manifest';

/** Error codes of this step (Apollo's where Apollo has one). */
export const PersistedCodes = {
  /** APQ: the hash is not registered (for this tenant); Apollo clients then re-send with the query. */
  notFound: 'PERSISTED_QUERY_NOT_FOUND',
  /** A trusted-documents-only caller sent a document that is not in the manifest. */
  notInList: 'PERSISTED_QUERY_NOT_IN_LIST',
  /** APQ registration whose query does not hash to the sha256Hash it was sent with. */
  hashMismatch: 'PERSISTED_QUERY_HASH_MISMATCH',
  badRequest: 'BAD_REQUEST',
  unavailable: 'SERVICE_UNAVAILABLE',
} as const;

/** The document text to run, and whether it should be registered as an APQ once it validates. */
export type ResolvedDocument =
  { ok: true; query: string; registerAs?: string } | { ok: false; status: number; code: string; message: string };

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

/** `documentId` as in the manifest, also in the `sha256:<hex>` form of the GraphQL-over-HTTP persisted-documents draft. */
const manifestIdOf = (documentId: string): string => (documentId.startsWith('sha256:') ? documentId.slice('sha256:'.length) : documentId);

/**
 * Which document a request runs: a trusted document by `documentId`, an automatic persisted query
 * by `extensions.persistedQuery.sha256Hash` (looked up or registered under the caller's tenant), or
 * the `query` sent. Persisted-only callers (API keys so marked, or everyone with
 * GATEWAY_PERSISTED_ONLY) run manifest documents only.
 */
export function createPersistedDocuments(options: PersistedDocumentsOptions) {
  const persistedOnly = (caller: Caller): boolean =>
    options.requireTrusted || (caller.credential.kind === 'api-key' && caller.credential.persistedOnly);

  async function byHash(caller: Caller, hash: string, query: string | undefined): Promise<ResolvedDocument> {
    if (query !== undefined) {
      if (sha256Hex(query) !== hash)
        return fail(400, PersistedCodes.hashMismatch, 'The sha256 of `query` is not `extensions.persistedQuery.sha256Hash`.');
      if (options.trusted.get(hash)) return { ok: true, query };
      if (persistedOnly(caller)) return notInList;
      return { ok: true, query, registerAs: hash };
    }
    const trusted = options.trusted.get(hash);
    if (trusted) return { ok: true, query: trusted.body };
    if (persistedOnly(caller)) return notInList;
    let stored: string | null;
    try {
      stored = await options.apq.get(caller.context.tenantId, hash);
    } catch (error) {
      options.logger?.error({ err: error, tenantId: caller.context.tenantId, requestId: caller.context.requestId }, 'APQ lookup failed');
      return fail(503, PersistedCodes.unavailable, 'Persisted queries are unavailable right now; send the full query.');
    }
    return stored === null ? apqNotFound : { ok: true, query: stored };
  }

  return {
    async resolve(caller: Caller, params: GraphQLParams): Promise<ResolvedDocument> {
      const { query, documentId } = params;
      if (documentId !== undefined) {
        const trusted = options.trusted.get(manifestIdOf(documentId));
        if (!trusted)
          return fail(400, PersistedCodes.notInList, `No persisted operation has the id ${JSON.stringify(documentId.slice(0, 80))}.`);
        if (query !== undefined && query !== trusted.body)
          return fail(400, PersistedCodes.badRequest, 'Send `documentId` or `query`, not two different documents.');
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
        return byHash(caller, hash, query);
      }
      if (query === undefined) return fail(400, PersistedCodes.badRequest, 'A `query` string is required.');
      if (persistedOnly(caller) && !options.trusted.get(sha256Hex(query))) return notInList;
      return { ok: true, query };
    },

    /** Stores a validated APQ registration; a failure only costs the next request a miss, so it is logged, not raised. */
    async register(caller: Caller, hash: string, query: string): Promise<void> {
      try {
        await options.apq.put(caller.context.tenantId, hash, query);
      } catch (error) {
        options.logger?.warn(
          { err: error, tenantId: caller.context.tenantId, requestId: caller.context.requestId },
          'APQ registration failed',
        );
      }
    },
  };
}
export type PersistedDocuments = ReturnType<typeof createPersistedDocuments>;
