// Copies what the images need from a built checkout: the root package.json and lock, every
// workspace's package.json (npm ci checks the lock against all of them), and for the services'
// packages their published "files" (dist, schema SDL). Nothing else: no sources, tests or dev tools.
'use strict';
const { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const [repo, out] = process.argv.slice(2);
if (!repo || !out) throw new Error('usage: node stage-workspace.js <repo> <out>');

const root = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
const manifests = new Map(root.workspaces.map((w) => [w, JSON.parse(readFileSync(join(repo, w, 'package.json'), 'utf8'))]));
const byName = new Map([...manifests].map(([w, pkg]) => [pkg.name, w]));
// The five services and every workspace package they depend on, however the packages are cut.
const SERVICES = ['gateway', 'subgraphs/tenant', 'subgraphs/session', 'subgraphs/answer', 'subgraphs/inference', 'subgraphs/handoff'];
const SERVICE_PACKAGES = new Set();
const visit = (workspace) => {
  if (SERVICE_PACKAGES.has(workspace)) return;
  SERVICE_PACKAGES.add(workspace);
  for (const dep of Object.keys(manifests.get(workspace).dependencies ?? {})) if (byName.has(dep)) visit(byName.get(dep));
};
SERVICES.forEach(visit);
writeFileSync(join(out, 'package.json'), JSON.stringify(root, null, 2));
cpSync(join(repo, 'package-lock.json'), join(out, 'package-lock.json'));
for (const workspace of root.workspaces) {
  const pkg = manifests.get(workspace);
  mkdirSync(join(out, workspace), { recursive: true });
  writeFileSync(join(out, workspace, 'package.json'), JSON.stringify(pkg, null, 2));
  if (!SERVICE_PACKAGES.has(workspace)) continue;
  for (const entry of pkg.files ?? []) {
    const from = join(repo, workspace, entry);
    if (!existsSync(from)) throw new Error(`${workspace}/${entry} is missing: build the workspace first (npm run build)`);
    cpSync(from, join(out, workspace, entry), { recursive: true, filter: (path) => !/\.(test|e2e)\.|\.tsbuildinfo$/.test(path) });
  }
}
// For `npm ci --omit=dev -w …`: the packages whose dependencies the images install.
process.stdout.write([...SERVICE_PACKAGES].map((w) => manifests.get(w).name).join(' ') + '\n');
