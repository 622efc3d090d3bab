import { rng } from '../classifier';
import { ExampleBank } from './bank';
import { EmbeddingHead } from './head';

const D = 16;

/** Unit vectors around `centre` (a direction), with noise. */
function cluster(centre: number[], n: number, random: () => number, noise = 0.3): Float32Array[] {
  return Array.from({ length: n }, () => {
    const v = Float32Array.from(centre, (x) => x + noise * (random() - 0.5));
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}

function stack(rows: Float32Array[]): Float32Array {
  const out = new Float32Array(rows.length * D);
  rows.forEach((r, i) => out.set(r, i * D));
  return out;
}

const axis = (i: number, tilt = 0): number[] => Array.from({ length: D }, (_, j) => (j === i ? 1 : j === 0 ? tilt : 0));
const argmax = (xs: Float64Array): number => xs.indexOf(Math.max(...xs));

describe('EmbeddingHead', () => {
  const random = rng(3);
  // Three classes sharing a large common component (dimension 0), as one knowledge base's examples do.
  const classes = [cluster(axis(1, 3), 20, random), cluster(axis(2, 3), 20, random), cluster(axis(3, 3), 20, random)];
  const vectors = stack(classes.flat());
  const labels = Int32Array.from(classes.flatMap((c, i) => c.map(() => i)));

  it('learns the classes of unseen vectors despite their shared direction', async () => {
    const head = await EmbeddingHead.train(vectors, labels, 3, D);
    const fresh = [cluster(axis(1, 3), 10, random), cluster(axis(2, 3), 10, random), cluster(axis(3, 3), 10, random)];
    let right = 0;
    fresh.forEach((rows, c) => rows.forEach((v) => (right += argmax(head.logits(head.centre(v), new Float64Array(3))) === c ? 1 : 0)));
    expect(right).toBe(30);
  });

  it('scores a class an interim patch added by its examples’ direction, and only then', async () => {
    const head = await EmbeddingHead.train(vectors, labels, 3, D);
    const added = cluster(axis(4, 3), 5, random);
    const base = new ExampleBank(vectors, labels, 3, D, head);
    const patched = base.concat(new ExampleBank(stack(added), new Int32Array(5).fill(3), 4, D));
    const query = cluster(axis(4, 3), 1, random)[0] as Float32Array;
    const withPatch = patched.headLogits(query, 4) as Float64Array;
    expect(argmax(withPatch)).toBe(3);
    // Without the patch's prototype the new class has no score at all.
    expect(base.headLogits(query, 4)?.[3]).toBe(-Infinity);
    // The trained classes keep their scores.
    expect(Array.from(withPatch.slice(0, 3))).toEqual(Array.from((base.headLogits(query, 4) as Float64Array).slice(0, 3)));
  });

  it('trains identically for identical input (seeded), and yields between passes', async () => {
    let pauses = 0;
    const a = await EmbeddingHead.train(vectors, labels, 3, D, { epochs: 3 }, async () => void pauses++);
    const b = await EmbeddingHead.train(vectors, labels, 3, D, { epochs: 3 });
    expect(Array.from(a.weights)).toEqual(Array.from(b.weights));
    expect(pauses).toBe(3);
  });
});
