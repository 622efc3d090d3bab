import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { ALL_OPERATIONS } from '@beedesk/sdk';
import { buildManifest, clientDocuments, manifestPath, manifestText, splitGraphQLFile } from './generate';

describe('persisted-operation manifest (trusted documents)', () => {
  it('the committed schema/persisted-operations.json is current (run `npm run manifest` if this fails)', () => {
    expect(readFileSync(manifestPath, 'utf8')).toBe(manifestText(buildManifest(clientDocuments())));
  });

  it('holds every SDK operation byte for byte, so the SDK’s full queries and APQ hashes match the manifest ids', () => {
    const manifest = buildManifest(clientDocuments());
    for (const [name, operation] of Object.entries(ALL_OPERATIONS)) {
      const entry = manifest.operations.find((o) => o.name === name);
      expect(entry?.body).toBe(operation.document);
      expect(entry?.id).toBe(createHash('sha256').update(operation.document).digest('hex'));
    }
    expect(manifest.operations.map((o) => o.name)).toEqual(
      expect.arrayContaining(['PartnerTenant', 'PartnerStartSession', 'PartnerAsk', 'PartnerAnswer']),
    );
  });

  it('writes Apollo’s manifest format, operations sorted by name', () => {
    const manifest = buildManifest([
      { origin: 'b', body: 'mutation B { startSession { id } }' },
      { origin: 'a', body: 'query A { tenant { id } }' },
    ]);
    expect(manifest).toEqual({
      format: 'apollo-persisted-query-manifest',
      version: 1,
      operations: [
        {
          id: createHash('sha256').update('query A { tenant { id } }').digest('hex'),
          name: 'A',
          type: 'query',
          body: 'query A { tenant { id } }',
        },
        {
          id: createHash('sha256').update('mutation B { startSession { id } }').digest('hex'),
          name: 'B',
          type: 'mutation',
          body: 'mutation B { startSession { id } }',
        },
      ],
    });
  });

  it('splits a .graphql file into its operations’ exact text', () => {
    const source = '# comment\nquery A { tenant { id } }\n\nmutation B {\n  startSession { id }\n}\n';
    expect(splitGraphQLFile('f', source).map((d) => d.body)).toEqual([
      'query A { tenant { id } }',
      'mutation B {\n  startSession { id }\n}',
    ]);
  });

  it('refuses anonymous operations, fragments and one name for two documents', () => {
    expect(() => buildManifest([{ origin: 'x', body: '{ tenant { id } }' }])).toThrow(/must be named/);
    expect(() => buildManifest([{ origin: 'x', body: 'fragment F on Tenant { id }' }])).toThrow(/exactly one operation/);
    expect(() =>
      buildManifest([
        { origin: 'x', body: 'query A { tenant { id } }' },
        { origin: 'y', body: 'query A { tenant { name } }' },
      ]),
    ).toThrow(/y: another document is already named A/);
  });
});
