import { createHash } from 'node:crypto';
import { ALL_OPERATIONS } from './operations';
import { PersistedDocuments, sha256Hex, type PersistedQueryManifest } from './persisted';

const nodeSha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('persisted operations in the SDK', () => {
  it('hashes with WebCrypto exactly as the gateway does (sha256, lower-case hex), also non-ASCII text', async () => {
    for (const text of [ALL_OPERATIONS.GetTenant.document, 'query Q { tenant { name } } # 你好']) {
      expect(await sha256Hex(text)).toBe(nodeSha256(text));
    }
  });

  it('sends the text, the APQ hash, or the manifest id', async () => {
    const document = ALL_OPERATIONS.GetTenant.document;
    expect(await new PersistedDocuments(undefined).fieldsFor(document)).toEqual({ query: document });
    expect(await new PersistedDocuments('apq').fieldsFor(document)).toEqual({
      extensions: { persistedQuery: { version: 1, sha256Hash: nodeSha256(document) } },
    });
    const manifest: PersistedQueryManifest = {
      format: 'apollo-persisted-query-manifest',
      version: 1,
      operations: [{ id: 'id-of-get-tenant', name: 'GetTenant', type: 'query', body: document }],
    };
    expect(await new PersistedDocuments({ manifest }).fieldsFor(document)).toEqual({ documentId: 'id-of-get-tenant' });
    await expect(new PersistedDocuments({ manifest }).fieldsFor(ALL_OPERATIONS.Ask.document)).rejects.toThrow(
      /not in the persisted-operation manifest/,
    );
  });
});
