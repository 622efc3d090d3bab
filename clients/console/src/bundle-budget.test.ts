import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CONSOLE_CSS_BUDGET_GZIP_BYTES, CONSOLE_JS_BUDGET_GZIP_BYTES } from './index';

// The built bundle (`npm run build` writes dist/web) stays within its budget: a dependency that drags in
// a framework, or a locale table bundled twice, fails here.
describe('console bundle budget', () => {
  // Under ts-jest this file runs from src/, the bundle is in dist/web.
  const gzipped = (file: string) => gzipSync(readFileSync(join(__dirname, '..', 'dist', 'web', file))).length;

  it(`keeps console.js under ${CONSOLE_JS_BUDGET_GZIP_BYTES} gzipped bytes`, () => {
    const bytes = gzipped('console.js');
    process.stdout.write(`console.js: ${bytes} bytes gzipped (budget ${CONSOLE_JS_BUDGET_GZIP_BYTES})\n`);
    expect(bytes).toBeGreaterThan(10_000); // the app itself is in it
    expect(bytes).toBeLessThanOrEqual(CONSOLE_JS_BUDGET_GZIP_BYTES);
  });

  it(`keeps console.css under ${CONSOLE_CSS_BUDGET_GZIP_BYTES} gzipped bytes`, () => {
    expect(gzipped('console.css')).toBeLessThanOrEqual(CONSOLE_CSS_BUDGET_GZIP_BYTES);
  });
});
