/**
 * `npm run graph`: rewrites README.md's package dependency graph from the workspace's package.json
 * files. `--check` changes nothing and exits 1 when README.md is stale (graph.test.ts checks the same).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../cluster';
import { findCycles, readWorkspace, renderSection, withSection } from './graph';

const packages = readWorkspace(repoRoot);
const cycles = findCycles(packages);
if (cycles.length > 0) {
  console.error(`package dependency cycles: ${cycles.map((cycle) => cycle.join(' -> ')).join('; ')}`);
  process.exit(1);
}
const readmePath = join(repoRoot, 'README.md');
const readme = readFileSync(readmePath, 'utf8');
const updated = withSection(readme, renderSection(packages));
if (process.argv.includes('--check')) {
  if (updated !== readme) {
    console.error('README.md package graph is stale: run `npm run graph`');
    process.exit(1);
  }
  console.log('README.md package graph is current');
} else if (updated !== readme) {
  writeFileSync(readmePath, updated);
  console.log('README.md package graph updated');
} else {
  console.log('README.md package graph already current');
}
