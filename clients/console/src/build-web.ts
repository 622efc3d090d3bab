import { build, type Plugin } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import * as documents from './generated/operations';
import { CONSOLE_WEB_DIR } from './index';

/** The text the SDK sends for a document (its `persistedText`), whose sha256 is the manifest id. */
const persistedText = (printed: string): string => printed.trim().replace(/\s*\n\s*/g, ' ');

/**
 * The console's operations by text → manifest id, computed here rather than in the browser: the app sends
 * only ids (`documentId`), so it works against a persisted-only gateway and needs no WebCrypto (which plain
 * http on a LAN address lacks).
 */
export function operationIds(): { id: string; body: string }[] {
  return (Object.values(documents) as unknown[])
    .filter((value): value is { toString(): string } => value instanceof documents.TypedDocumentString)
    .map((document) => {
      const body = persistedText(document.toString());
      return { id: createHash('sha256').update(body).digest('hex'), body };
    });
}

/**
 * The SDK is CommonJS, so its require('graphql-ws') would pick the package's `require` build, which also
 * carries the server and graphql-js (270 kB); the browser needs only the client module.
 */
const browserGraphqlWs: Plugin = {
  name: 'graphql-ws-client',
  setup(builder) {
    builder.onResolve({ filter: /^graphql-ws$/ }, () => ({
      path: join(dirname(require.resolve('graphql-ws/package.json')), 'dist', 'client.js'),
    }));
  },
};

/** Bundles the app (Preact, uPlot, the SDK) into dist/web with esbuild, minified, with the operation ids baked in. */
export async function buildWeb(outDir = CONSOLE_WEB_DIR): Promise<void> {
  const src = join(__dirname, '..', 'src', 'web');
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: { console: join(src, 'main.tsx') },
    outdir: outDir,
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'warning',
    define: { __CONSOLE_OPERATIONS__: JSON.stringify(operationIds()) },
    loader: { '.css': 'css' },
    plugins: [browserGraphqlWs],
  });
  copyFileSync(join(src, 'index.html'), join(outDir, 'index.html'));
}

if (require.main === module) {
  buildWeb().catch((error: unknown) => {
    process.stderr.write(`console build failed: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
