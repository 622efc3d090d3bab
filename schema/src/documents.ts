import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

/** The repository root (this file is schema/src/documents.ts or schema/dist/documents.js). */
export const repoRoot = join(__dirname, '..', '..');

/**
 * Every `*.graphql` file under a client's `src/` (its operations), sorted, relative to the repository
 * root. These are what `npm run codegen` types and `npm run manifest` lists: one source for both.
 */
export function clientDocumentFiles(client: string): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.graphql')) files.push(relative(repoRoot, path));
    }
  };
  const src = join(repoRoot, 'clients', client, 'src');
  if (existsSync(src)) walk(src);
  return files.sort();
}

/** The clients with operations: every folder of clients/ with a `.graphql` file in its `src/`. */
export function clientsWithDocuments(): string[] {
  return readdirSync(join(repoRoot, 'clients'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && clientDocumentFiles(entry.name).length > 0)
    .map((entry) => entry.name)
    .sort();
}
