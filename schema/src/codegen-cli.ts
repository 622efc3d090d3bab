import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generateAll, staleGeneratedFiles } from './codegen';
import { repoRoot } from './documents';

// `npm run codegen` writes the generated types (see codegen.ts); `--check` only reports whether any is stale.
const check = process.argv.includes('--check');
generateAll()
  .then(async (files) => {
    if (check) {
      const stale = await staleGeneratedFiles(files);
      if (stale.length > 0) {
        process.stderr.write(`stale generated files (run \`npm run codegen\` and commit them):\n${stale.map((p) => `  ${p}\n`).join('')}`);
        process.exit(1);
      }
      process.stdout.write(`${files.length} generated files are up to date.\n`);
      return;
    }
    for (const { path, content } of files) {
      mkdirSync(dirname(join(repoRoot, path)), { recursive: true });
      writeFileSync(join(repoRoot, path), content);
      process.stdout.write(`wrote ${path}\n`);
    }
  })
  .catch((error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  });
