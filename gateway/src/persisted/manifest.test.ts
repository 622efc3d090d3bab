import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@beedesk/runtime';
import { manifestPathOf } from '../config';
import { defaultManifestPath, loadTrustedDocuments, manifestProblems, sha256Hex } from './manifest';
import { apiSchema } from './test-schema';

const schema = apiSchema();
const entry = (name: string, body: string, type = 'query') => ({ id: sha256Hex(body), name, type, body });
const manifestOf = (...operations: unknown[]) => ({ format: 'apollo-persisted-query-manifest', version: 1, operations });

describe('persisted-operation manifest', () => {
  it('loads beedesk’s committed manifest against the supergraph, every id the sha256 of its body', () => {
    const trusted = loadTrustedDocuments(defaultManifestPath, schema);
    expect(trusted.size).toBeGreaterThanOrEqual(12);
    const tenant = trusted.get(sha256Hex('query GetTenant { tenant { id name } }'));
    expect(tenant).toMatchObject({ name: 'GetTenant', type: 'query' });
  });

  it('accepts a well-formed manifest', () => {
    expect(manifestProblems(manifestOf(entry('Me', 'query Me { tenant { id } }')), schema)).toEqual([]);
  });

  it('lists every problem: format, version, wrong id, invalid field, name and type mismatches, several operations', () => {
    const problems = manifestProblems(
      {
        format: 'other',
        version: 2,
        operations: [
          { ...entry('A', 'query A { tenant { id } }'), id: 'f'.repeat(64) },
          entry('B', 'query B { tenant { nope } }'),
          entry('C', 'query Other { tenant { id } }'),
          entry('D', 'query D { tenant { id } }', 'mutation'),
          entry('E', 'query E { tenant { id } } query F { tenant { name } }'),
          entry('G', 'query G {'),
          { id: 1 },
        ],
      },
      schema,
    );
    expect(problems).toEqual([
      '`format` must be "apollo-persisted-query-manifest"',
      '`version` must be 1',
      'operations[0] (A): `id` is not the sha256 of `body`',
      expect.stringMatching(/^operations\[1\] \(B\): Cannot query field "nope"/),
      'operations[2]: `name` is C but the operation is named Other',
      'operations[3] (D): `type` is mutation but the operation is a query',
      'operations[4] (E): the body must hold exactly one operation',
      expect.stringMatching(/^operations\[5\] \(G\): Syntax Error/),
      'operations[6] needs string `id`, `name`, `type` and `body`',
    ]);
  });

  it('refuses to start on an unreadable or invalid manifest, naming the setting', () => {
    const dir = mkdtempSync(join(tmpdir(), 'manifest-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify(manifestOf(entry('B', 'query B { nope }'))));
    expect(() => loadTrustedDocuments(bad, schema)).toThrow(ConfigError);
    expect(() => loadTrustedDocuments(bad, schema)).toThrow(/PERSISTED_OPERATIONS_PATH: .*bad\.json: operations\[0\] \(B\)/);
    expect(() => loadTrustedDocuments(join(dir, 'missing.json'), schema)).toThrow(/PERSISTED_OPERATIONS_PATH: cannot read the manifest/);
  });

  it('PERSISTED_OPERATIONS_PATH: beedesk’s manifest only with beedesk’s supergraph; `none` turns it off', () => {
    expect(manifestPathOf(undefined, undefined)).toBeUndefined();
    expect(manifestPathOf(undefined, 'other.graphql')).toBeNull();
    expect(manifestPathOf('mine.json', 'other.graphql')).toBe('mine.json');
    expect(manifestPathOf('none', undefined)).toBeNull();
  });
});
