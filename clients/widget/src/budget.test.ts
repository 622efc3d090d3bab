import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

interface Sizes {
  rows: { name: string; raw: number; gzip: number }[];
  totalGzip: number;
  budget: number;
}

describe('bundle budget', () => {
  it('keeps everything loaded before the first message (widget.js + widget-app.js) within 40 kB gzipped', () => {
    // A fresh in-memory build of the current sources, not whatever dist/ holds.
    const out = execFileSync(process.execPath, [join(__dirname, '..', 'build.mjs'), '--sizes'], { encoding: 'utf8' });
    const sizes = JSON.parse(out.trim().split('\n').pop()!) as Sizes;
    expect(sizes.rows.map((r) => r.name).sort()).toEqual(['widget-app.js', 'widget.js']);
    expect(sizes.budget).toBe(40 * 1024);
    expect(sizes.totalGzip).toBeLessThanOrEqual(sizes.budget);
    // The loader stays tiny: it only loads the app.
    expect(sizes.rows.find((r) => r.name === 'widget.js')!.gzip).toBeLessThan(1024);
  });
});
