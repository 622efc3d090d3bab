import { getOperationAST, GraphQLError, type GraphQLSchema } from 'graphql';
import { Gauge, type Registry, type RegistryContentType } from 'prom-client';
import { DocumentCache } from './document-cache';
import type { AdmissionPlugin } from './plugin';
import { refusal } from './refusal';

export interface DocumentSettings {
  /** Most bytes (UTF-8) of a `query` text, comments and whitespace included (MAX_QUERY_BYTES); 0: no bound. */
  maxQueryBytes: number;
  /** Most bytes the parsed-document cache may retain (DOCUMENT_CACHE_MAX_BYTES); 0: no cache. */
  cacheMaxBytes: number;
}

export const DEFAULT_DOCUMENT_SETTINGS: DocumentSettings = { maxQueryBytes: 100_000, cacheMaxBytes: 32 * 1024 * 1024 };

/** UTF-8 length without encoding the text: no character takes more than 3 bytes per UTF-16 unit. */
const exceedsBytes = (text: string, limit: number): boolean =>
  text.length > limit || (text.length * 3 > limit && Buffer.byteLength(text, 'utf8') > limit);

/**
 * The document a request runs: its `query` text bounded (before it is hashed or parsed), parsed and
 * validated against the API schema (cached by bytes, see DocumentCache), and the operation it names.
 */
export function useDocument(
  schema: GraphQLSchema,
  settings: DocumentSettings = DEFAULT_DOCUMENT_SETTINGS,
  registry?: Registry<RegistryContentType>,
) {
  const cache = new DocumentCache(schema, settings.cacheMaxBytes);
  if (registry) {
    new Gauge({
      name: 'beedesk_gateway_document_cache_bytes',
      help: 'Bytes the parsed-document cache retains (estimated; bounded by DOCUMENT_CACHE_MAX_BYTES)',
      registers: [registry],
      collect() {
        this.set(cache.bytes);
      },
    });
    new Gauge({
      name: 'beedesk_gateway_document_cache_entries',
      help: 'Documents in the parsed-document cache (only documents that parsed and validated)',
      registers: [registry],
      collect() {
        this.set(cache.size);
      },
    });
  }
  const plugin: AdmissionPlugin = {
    name: 'useDocument',
    onParams(_connection, { query }) {
      if (query === undefined || settings.maxQueryBytes <= 0 || !exceedsBytes(query, settings.maxQueryBytes)) return undefined;
      return refusal(
        413,
        'QUERY_TOO_LARGE',
        `The query text is larger than ${settings.maxQueryBytes} bytes (comments and whitespace count); use variables for large values.`,
        undefined,
        { maxQueryBytes: settings.maxQueryBytes },
      );
    },
    onPrepare(_connection, { query }, { operationName }) {
      const prepared = cache.prepare(query);
      if (!prepared.ok) return { ok: false, status: 400, errors: prepared.errors };
      const { document, queryHash } = prepared.prepared;
      const operation = getOperationAST(document, operationName);
      if (!operation) {
        const message = operationName
          ? `Unknown operation "${operationName}".`
          : 'The document has several operations: give `operationName`.';
        return { ok: false, status: 400, errors: [new GraphQLError(message, { extensions: { code: 'BAD_REQUEST' } })] };
      }
      return { ok: true, document, operation, queryHash, planKey: `${queryHash}:${operationName ?? ''}`, query };
    },
  };
  return { plugin, cache };
}
