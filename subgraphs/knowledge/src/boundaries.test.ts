import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// The knowledge engine is a library: it must stay usable without a GraphQL server, Redis or Kafka.
const PACKAGE_DIR = join(__dirname, '..');
const FORBIDDEN = ['graphql', 'ioredis', 'kafkajs'];

/** Every module specifier a source file imports, re-exports or requires. */
function specifiersOf(source: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\bfrom\s+['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /^\s*import\s+['"]([^'"]+)['"]/gm,
  ];
  for (const pattern of patterns) for (const match of source.matchAll(pattern)) found.push(match[1]!);
  return found;
}

const packageName = (specifier: string): string =>
  specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;

describe('@beedesk/knowledge boundaries', () => {
  it('declares no dependency on graphql, ioredis, kafkajs or another beedesk package', () => {
    const manifest = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as Record<string, unknown>;
    const declared = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'].flatMap((field) =>
      Object.keys((manifest[field] as Record<string, string> | undefined) ?? {}),
    );
    expect(declared.filter((name) => FORBIDDEN.includes(name) || name.startsWith('@beedesk/'))).toEqual([]);
  });

  it('imports only its own modules, Node built-ins and its declared dependencies, so no graphql, ioredis or kafkajs', () => {
    const manifest = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    const declared = Object.keys(manifest.dependencies ?? {});
    const sources = readdirSync(join(PACKAGE_DIR, 'src'), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
    expect(sources.length).toBeGreaterThan(5);
    const outside = sources.flatMap((file) =>
      specifiersOf(readFileSync(join(PACKAGE_DIR, 'src', file), 'utf8'))
        .filter((specifier) => !specifier.startsWith('.') && !specifier.startsWith('node:') && !declared.includes(packageName(specifier)))
        .map((specifier) => `${file}: ${specifier}`),
    );
    expect(outside).toEqual([]);
    const forbidden = sources.flatMap((file) =>
      specifiersOf(readFileSync(join(PACKAGE_DIR, 'src', file), 'utf8')).filter((specifier) => FORBIDDEN.includes(packageName(specifier))),
    );
    expect(forbidden).toEqual([]);
  });
});
