import { rng } from '../classifier';
import type { SparseVector } from '../features';
import { ExampleBank } from './bank';
import type { SentenceEncoder } from './encoder';
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

  it('a joint head learns from word features what the embeddings cannot separate', async () => {
    // Two classes with the same embedding direction, told apart only by one word feature each (ids 0 and 1).
    const same = [cluster(axis(1, 3), 20, random), cluster(axis(1, 3), 20, random)];
    const rows = stack(same.flat());
    const twoLabels = Int32Array.from(same.flatMap((c, i) => c.map(() => i)));
    const word = (id: number): SparseVector => ({ ids: Int32Array.of(id, 2), values: Float32Array.of(0.8, 0.6) });
    const words = { rows: Array.from(twoLabels, (c) => word(c)), dimension: 3 };
    const joint = await EmbeddingHead.train(rows, twoLabels, 2, D, { wordFeatures: 1, epochs: 8 }, undefined, words);
    const query = joint.centre(cluster(axis(1, 3), 1, random)[0] as Float32Array);
    expect(argmax(joint.logits(query, new Float64Array(2), undefined, word(0)))).toBe(0);
    expect(argmax(joint.logits(query, new Float64Array(2), undefined, word(1)))).toBe(1);
    // An unknown feature id (a patch's new term) is ignored, not read out of bounds.
    const unknown = { ids: Int32Array.of(7), values: Float32Array.of(1) };
    expect(joint.logits(query, new Float64Array(2), undefined, unknown).every(Number.isFinite)).toBe(true);
    expect(joint.byteSize).toBeGreaterThan(joint.weights.byteLength + 3 * 2 * 4 - 1);
  });

  it('a joint head leaves the word part out for every class while a patch adds classes', async () => {
    const words = { rows: Array.from(labels, (c) => ({ ids: Int32Array.of(c), values: Float32Array.of(1) })), dimension: 3 };
    const joint = await EmbeddingHead.train(vectors, labels, 3, D, { wordFeatures: 1 }, undefined, words);
    const query = cluster(axis(1, 3), 1, random)[0] as Float32Array;
    const centred = joint.centre(query);
    const word: SparseVector = { ids: Int32Array.of(2), values: Float32Array.of(1) };
    const embeddingOnly = joint.logits(centred, new Float64Array(4));
    const prototypes = new Map([[3, joint.prototypeRow(stack(cluster(axis(4, 3), 3, random)), 0, 3)]]);
    const patched = joint.logits(centred, new Float64Array(4), prototypes, word);
    expect(Array.from(patched.slice(0, 3))).toEqual(Array.from(embeddingOnly.slice(0, 3)));
    expect(joint.logits(centred, new Float64Array(4), undefined, word)[2]).toBeGreaterThan(embeddingOnly[2] as number);
  });

  it('pauses within a pass when a pass takes long', async () => {
    let pauses = 0;
    const many = stack(Array.from({ length: 40 }, () => classes.flat()).flat());
    const manyLabels = Int32Array.from({ length: 40 * 60 }, (_, i) => labels[i % 60] as number);
    // A clock that advances 1 ms per reading: every check finds the slice used up.
    let clock = 0;
    const now = jest.spyOn(performance, 'now').mockImplementation(() => (clock += 1));
    try {
      await EmbeddingHead.train(many, manyLabels, 3, D, { epochs: 1 }, async () => void pauses++);
    } finally {
      now.mockRestore();
    }
    expect(pauses).toBeGreaterThan(1);
  });

  it('a bank built with default head options trains the joint head over the word model’s features', async () => {
    const encoder = {
      dimension: D,
      embed: (texts: readonly string[]) =>
        Promise.resolve(texts.map((_, i) => cluster(axis(1 + (i % 3), 3), 1, random)[0] as Float32Array)),
    } as unknown as SentenceEncoder;
    const words = { featureDimension: 5, vectorise: () => ({ ids: Int32Array.of(1), values: Float32Array.of(1) }) };
    const article = (id: string) => ({ id, title: id, body: '', questions: [`${id} one`, `${id} two`], locale: 'en' });
    const bank = await ExampleBank.build(encoder, [article('a'), article('b')], 0, {}, words);
    expect(bank.head?.wordDimension).toBe(5);
    const off = await ExampleBank.build(encoder, [article('a'), article('b')], 0, { wordFeatures: 0 }, words);
    expect(off.head?.wordDimension).toBe(0);
  });
});
