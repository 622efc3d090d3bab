/** Apollo's persisted-query manifest, as beedesk publishes it (schema/persisted-operations.json). */
export interface PersistedQueryManifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: { id: string; name: string; type: 'query' | 'mutation' | 'subscription'; body: string }[];
}

/**
 * How the client sends documents:
 * - `apq`: automatic persisted queries: the sha256 first, the text only when the gateway answers
 *   PERSISTED_QUERY_NOT_FOUND (once per document and tenant, for all gateway replicas);
 * - `{ manifest }`: trusted documents: only the manifest id (`documentId`), as persisted-only API keys must.
 */
export type PersistedOperationsMode = 'apq' | { manifest: ManifestIds };

/** What the client needs of a manifest; a JSON import of the manifest file fits without a cast. */
export interface ManifestIds {
  operations: readonly { id: string; body: string }[];
}

/** The fields that name a document in a request (instead of, or besides, `query`). */
export type DocumentFields =
  { query: string } | { documentId: string } | { extensions: { persistedQuery: { version: 1; sha256Hash: string } } };

export async function sha256Hex(text: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** Chooses the fields a document is sent with; hashes are computed once per document. */
export class PersistedDocuments {
  private readonly hashes = new Map<string, Promise<string>>();
  private readonly ids: ReadonlyMap<string, string>;

  constructor(private readonly mode: PersistedOperationsMode | undefined) {
    this.ids = new Map(typeof mode === 'object' ? mode.manifest.operations.map((o) => [o.body, o.id]) : []);
  }

  /** What to send first. A document missing from the manifest is an error here, not a refused request. */
  async fieldsFor(document: string): Promise<DocumentFields> {
    if (this.mode === undefined) return { query: document };
    if (this.mode === 'apq') return { extensions: { persistedQuery: { version: 1, sha256Hash: await this.hashOf(document) } } };
    const documentId = this.ids.get(document);
    if (!documentId) throw new Error('This operation is not in the persisted-operation manifest (run `npm run manifest`).');
    return { documentId };
  }

  private hashOf(document: string): Promise<string> {
    let hash = this.hashes.get(document);
    if (!hash) this.hashes.set(document, (hash = sha256Hex(document)));
    return hash;
  }
}
