// Builds the widget with esbuild: dist/web/widget.js (the loader), dist/web/widget-app.js (the chat, Preact
// bundled in), dist/npm/index.js (ESM for apps that bundle it, preact and graphql-ws left to the app) and
// the npm types; prints the gzipped sizes against the 40 kB budget (src/budget.test.ts enforces it).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
export const BUDGET_BYTES = 40 * 1024;

/** name → id of the widget's operations in the persisted-operation manifest. */
export function widgetOperationIds() {
  const manifest = JSON.parse(readFileSync(join(here, '../../schema/persisted-operations.json'), 'utf8'));
  return Object.fromEntries(manifest.operations.filter((o) => o.name.startsWith('Widget')).map((o) => [o.name, o.id]));
}

export const webOptions = () => ({
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['chrome100', 'firefox100', 'safari15'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  define: { __WIDGET_OPERATIONS__: JSON.stringify(widgetOperationIds()) },
  logLevel: 'warning',
});

/** The two scripts loaded before the first message, built in memory: name → bytes. */
export async function buildWeb(write = false) {
  const outdir = join(here, 'dist/web');
  const result = await build({
    ...webOptions(),
    entryPoints: { widget: join(here, 'src/loader.ts'), 'widget-app': join(here, 'src/app.ts') },
    outdir,
    write,
  });
  return result.outputFiles
    ? Object.fromEntries(result.outputFiles.map((f) => [f.path.split('/').pop(), f.contents]))
    : Object.fromEntries(['widget.js', 'widget-app.js'].map((n) => [n, readFileSync(join(outdir, n))]));
}

export function sizesOf(files) {
  const rows = Object.entries(files).map(([name, bytes]) => ({ name, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length }));
  return { rows, totalGzip: rows.reduce((sum, r) => sum + r.gzip, 0) };
}

async function main() {
  mkdirSync(join(here, 'dist/web'), { recursive: true });
  const files = await buildWeb(false);
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(here, 'dist/web', name), bytes);
  await build({
    ...webOptions(),
    format: 'esm',
    minify: false,
    entryPoints: [join(here, 'src/npm.ts')],
    outfile: join(here, 'dist/npm/index.js'),
    external: ['preact', 'preact/*', 'graphql-ws'],
  });
  execFileSync(process.execPath, [join(here, '../../node_modules/typescript/bin/tsc'), '-p', join(here, 'tsconfig.build.json')], {
    stdio: 'inherit',
  });
  const { rows, totalGzip } = sizesOf(files);
  for (const r of rows) console.log(`widget ${r.name.padEnd(14)} ${String(r.raw).padStart(7)} B  ${String(r.gzip).padStart(6)} B gzipped`);
  const verdict = totalGzip <= BUDGET_BYTES ? 'within' : 'OVER';
  console.log(`widget before the first message: ${totalGzip} B gzipped, ${verdict} the ${BUDGET_BYTES} B budget`);
  writeFileSync(join(here, 'dist/web/size.json'), `${JSON.stringify({ files: rows, totalGzip, budget: BUDGET_BYTES }, null, 2)}\n`);
  if (totalGzip > BUDGET_BYTES) process.exitCode = 1;
}

/** `node build.mjs --sizes`: builds in memory and prints only the sizes as JSON (the budget test). */
async function printSizes() {
  console.log(JSON.stringify({ ...sizesOf(await buildWeb(false)), budget: BUDGET_BYTES }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await (process.argv.includes('--sizes') ? printSizes() : main());
