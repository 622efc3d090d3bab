import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './index';

/**
 * Runs `body` (an async function body, with `codegen` bound to the built generator, dist/codegen.js) in
 * its own Node process and returns what it returns. The generator's plugins require ES modules
 * (auto-bind), which Node 20 loads but jest's module system does not.
 */
function inNode<T>(body: string): T {
  const script = `const codegen = require(${JSON.stringify(join(__dirname, '..', 'dist', 'codegen.js'))});
(async () => { ${body} })().then((r) => process.stdout.write(JSON.stringify(r)), (e) => { process.stderr.write(String(e && e.stack)); process.exit(1); });`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })) as T;
}

// Each case starts a Node process that runs the generator: allow more than jest's default 5 s on a busy machine.
jest.setTimeout(60_000);

describe('types generated from the schema (npm run codegen)', () => {
  it('the committed generated files are current (run `npm run codegen` if this fails)', () => {
    expect(inNode<string[]>('return codegen.staleGeneratedFiles();')).toEqual([]);
  });

  it('detects stale resolver types when a subgraph changed', () => {
    const result = inNode<{ stale: string[]; content: string }>(`
      const { subgraphSdl } = require('@beedesk/schema');
      const changed = (name) => name === 'tenant' ? subgraphSdl(name).replace('name: String!', 'name: String!\\n  plan: String') : subgraphSdl(name);
      const regenerated = await codegen.subgraphResolverTypes('tenant', changed);
      return { stale: await codegen.staleGeneratedFiles([regenerated]), content: regenerated.content };`);
    expect(result.content).toContain('plan?: Resolver<');
    expect(result.stale).toEqual(['subgraphs/tenant/src/generated/resolvers.ts']);
  });

  it('detects stale client types when the schema changed', () => {
    const result = inNode<{ stale: string[]; content: string }>(`
      const { readSupergraph } = require('@beedesk/schema');
      const regenerated = await codegen.clientOperationTypes('sdk', readSupergraph().replace('engine: String!', 'engine: String'));
      return { stale: await codegen.staleGeneratedFiles([regenerated]), content: regenerated.content };`);
    expect(result.content).toContain('engine: string | null');
    expect(result.stale).toEqual(['clients/sdk/src/generated/operations.ts']);
  });

  it('refuses a client document that selects a field the schema does not have', () => {
    const message = inNode<string>(`
      const { readSupergraph } = require('@beedesk/schema');
      const supergraph = readSupergraph().replace(/\\n\\s+queueLag: Int!/, '');
      if (supergraph === readSupergraph()) return 'the field to remove was not found';
      return codegen.clientOperationTypes('sdk', supergraph).then(() => 'generated', (error) => error.message);`);
    expect(message).toMatch(/queueLag/);
  });

  it('types each client document with its result and variables, carrying the text a client sends', () => {
    const generated = readFileSync(join(repoRoot, 'clients', 'sdk', 'src', 'generated', 'operations.ts'), 'utf8');
    expect(generated).toContain('export type GetSessionQueryVariables');
    expect(generated).toMatch(/GetSessionDocument = new TypedDocumentString\(`\s*query GetSession\(\$id: ID!, \$last: Int\)/);
  });
});
