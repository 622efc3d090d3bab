import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';

/** Apollo's persisted-query manifest, as beedesk publishes it (schema/persisted-operations.json). */
export interface PersistedQueryManifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: { id: string; name: string; type: 'query' | 'mutation' | 'subscription'; body: string }[];
}

export interface GraphQLErrorPayload {
  message: string;
  extensions?: { code?: string };
}

/** A failed call: `code` is the first error's `extensions.code` (e.g. PERSISTED_QUERY_NOT_IN_LIST). */
export class PartnerApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'PartnerApiError';
  }
}

export interface PersistedClientOptions {
  /** The gateway's GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql. */
  url: string;
  /** A partner API key (`bdk_<tenant>_<secret>`), sent as `x-api-key`. */
  apiKey: string;
  manifest: PersistedQueryManifest;
  fetch?: typeof fetch;
}

/** The name of a document's operation: `query PartnerAnswer(…` → PartnerAnswer. */
const OPERATION_NAME = /^\s*(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/;

/** A typed document as `npm run codegen` generates it (src/generated/operations.ts): text that carries its result and variables types. */
export type TypedDocument<TData, TVariables> = DocumentTypeDecoration<TData, TVariables> & { toString(): string };

/**
 * Runs typed documents, sending only their manifest id (`documentId`) and variables: the text of an
 * operation never leaves the partner, and a persisted-only key could run nothing else. A document is
 * found in the manifest by its operation's name (names are unique there).
 */
export class PersistedClient {
  private readonly byName: ReadonlyMap<string, { id: string; type: string }>;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: PersistedClientOptions) {
    if (options.manifest.format !== 'apollo-persisted-query-manifest' || options.manifest.version !== 1) {
      throw new Error('not an Apollo persisted-query manifest (version 1)');
    }
    this.byName = new Map(options.manifest.operations.map((o) => [o.name, { id: o.id, type: o.type }]));
    this.fetchImpl = options.fetch ?? fetch;
  }

  async run<TData, TVariables extends Record<string, unknown>>(
    document: TypedDocument<TData, TVariables>,
    variables?: TVariables,
  ): Promise<TData> {
    const operationName = OPERATION_NAME.exec(document.toString())?.[1] ?? '';
    const operation = this.byName.get(operationName);
    if (!operation) throw new Error(`${operationName || 'an unnamed operation'} is not in the manifest`);
    const vars: Record<string, unknown> = variables ?? {};
    // Queries may go over GET (cacheable by HTTP caches); mutations must be POSTed.
    const init: RequestInit =
      operation.type === 'query'
        ? { method: 'GET' }
        : { method: 'POST', body: JSON.stringify({ documentId: operation.id, operationName, variables: vars }) };
    const url =
      operation.type === 'query'
        ? `${this.options.url}?${new URLSearchParams({ documentId: operation.id, operationName, variables: JSON.stringify(vars) })}`
        : this.options.url;
    const response = await this.fetchImpl(url, {
      ...init,
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-api-key': this.options.apiKey },
    });
    let body: { data?: TData | null; errors?: GraphQLErrorPayload[] };
    try {
      body = (await response.json()) as typeof body;
    } catch {
      throw new PartnerApiError(`HTTP ${response.status} without a GraphQL body`, 'BAD_RESPONSE', response.status);
    }
    const first = body.errors?.[0];
    if (first) throw new PartnerApiError(first.message, first.extensions?.code ?? 'UNKNOWN', response.status);
    if (body.data == null) throw new PartnerApiError('The response has no data', 'BAD_RESPONSE', response.status);
    return body.data;
  }
}
