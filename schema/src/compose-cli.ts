import { writeFileSync } from 'node:fs';
import { composeSupergraph } from './compose';
import { readSupergraph, supergraphPath } from './index';

// `npm run compose` writes schema/supergraph.graphql; `--check` only reports whether it is stale.
const check = process.argv.includes('--check');
try {
  const composed = composeSupergraph();
  if (check) {
    if (readSupergraph() !== composed) {
      process.stderr.write('schema/supergraph.graphql is stale: run `npm run compose` and commit it.\n');
      process.exit(1);
    }
    process.stdout.write('schema/supergraph.graphql is up to date.\n');
  } else {
    writeFileSync(supergraphPath, composed);
    process.stdout.write(`wrote ${supergraphPath}\n`);
  }
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
}
