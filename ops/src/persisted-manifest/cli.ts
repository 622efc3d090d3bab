import { readFileSync, writeFileSync } from 'node:fs';
import { buildManifest, clientDocuments, manifestPath, manifestText } from './generate';

// `npm run manifest` writes schema/persisted-operations.json from clients/; `--check` only reports whether it is stale.
const check = process.argv.includes('--check');
try {
  const text = manifestText(buildManifest(clientDocuments()));
  if (check) {
    let current = '';
    try {
      current = readFileSync(manifestPath, 'utf8');
    } catch {
      // A missing manifest is stale.
    }
    if (current !== text) {
      process.stderr.write('schema/persisted-operations.json is stale: run `npm run manifest` and commit it.\n');
      process.exit(1);
    }
    process.stdout.write('schema/persisted-operations.json is up to date.\n');
  } else {
    writeFileSync(manifestPath, text);
    process.stdout.write(`wrote ${manifestPath}\n`);
  }
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
}
