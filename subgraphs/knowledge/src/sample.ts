/**
 * A stratified sample of a model's training vectors, with their logits under the trained classifier. An
 * interim patch (patch.ts) learns new or edited articles against it: the sample stands in for the rest of
 * the knowledge base, so a new article is learned as one more alternative among the existing ones in
 * milliseconds, without re-reading, re-vectorising or re-training the whole knowledge base.
 * All arrays are on shared memory, so the sample crosses from the build worker without a copy.
 */
import { rng, sharedFloat32, sharedInt32, type SoftmaxClassifier } from './classifier';
import type { SparseVector } from './features';

export interface TrainingSample {
  classes: number;
  /** Vector k is ids/values[offsets[k] .. offsets[k + 1]). */
  offsets: Int32Array;
  ids: Int32Array;
  values: Float32Array;
  labels: Int32Array;
  /** How many training examples each sampled one stands for (its class's examples over its sampled ones). */
  weights: Float32Array;
  /** logits[k * classes + c]: the trained classifier's logit of class c for sampled vector k. */
  logits: Float32Array;
}

/**
 * Examples kept per article. Enough to show a new article what the others look like (its common words
 * must not pull their questions over); at 77 articles this is ~1.8k vectors, ~2 MB.
 */
export const SAMPLE_PER_CLASS = 24;

export function sampleTraining(
  vectors: readonly SparseVector[],
  labels: ArrayLike<number>,
  classifier: SoftmaxClassifier,
  perClass = SAMPLE_PER_CLASS,
  seed = 1,
): TrainingSample {
  const classes = classifier.classes;
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < vectors.length; i++) byClass[labels[i] as number]?.push(i);
  const random = rng(seed);
  const chosen: Array<{ index: number; weight: number }> = [];
  for (const members of byClass) {
    // Partial Fisher-Yates: the first `take` entries become a uniform sample.
    const take = Math.min(perClass, members.length);
    for (let i = 0; i < take; i++) {
      const j = i + Math.floor(random() * (members.length - i));
      [members[i], members[j]] = [members[j] as number, members[i] as number];
      chosen.push({ index: members[i] as number, weight: members.length / take });
    }
  }
  const offsets = sharedInt32(chosen.length + 1);
  chosen.forEach(({ index }, k) => (offsets[k + 1] = (offsets[k] as number) + (vectors[index] as SparseVector).ids.length));
  const ids = sharedInt32(offsets[chosen.length] as number);
  const values = sharedFloat32(offsets[chosen.length] as number);
  const sampleLabels = sharedInt32(chosen.length);
  const weights = sharedFloat32(chosen.length);
  const logits = sharedFloat32(chosen.length * classes);
  const scores = new Float64Array(classes);
  chosen.forEach(({ index, weight }, k) => {
    const v = vectors[index] as SparseVector;
    ids.set(v.ids, offsets[k] as number);
    values.set(v.values, offsets[k] as number);
    sampleLabels[k] = labels[index] as number;
    weights[k] = weight;
    logits.set(classifier.scores(v, scores), k * classes);
  });
  return { classes, offsets, ids, values, labels: sampleLabels, weights, logits };
}

export const sampleSize = (sample: TrainingSample): number => sample.labels.length;

/** Sampled vector k (views, no copy). */
export function sampledVector(sample: TrainingSample, k: number): SparseVector {
  const from = sample.offsets[k] as number;
  const to = sample.offsets[k + 1] as number;
  return { ids: sample.ids.subarray(from, to), values: sample.values.subarray(from, to) };
}

export function sampleBytes(sample: TrainingSample): number {
  return (
    sample.offsets.byteLength +
    sample.ids.byteLength +
    sample.values.byteLength +
    sample.labels.byteLength +
    sample.weights.byteLength +
    sample.logits.byteLength
  );
}
