/**
 * Interim patches: a trained model extended, in milliseconds, with the articles it was not trained on
 * (new ones, and edited ones as they are now), so the next question finds them while the full model is
 * retrained in the background.
 *
 * The trained model stays as it is (its weights are shared, never copied). The vocabulary is extended
 * with the new articles' features (new columns after the old ones), and each patched article gets one
 * new class trained by softmax regression against the frozen old classes: on its own examples it must win,
 * and on the model's training sample (sample.ts, weighted to stand for the whole knowledge base) it must
 * lose to the old classes' logits. That is the full model's objective restricted to the new classes' weights,
 * so the patched model's confidences are calibrated like the full model's (same softmax, same temperature).
 * Deleted articles and the old versions of edited ones are left out of the softmax (as KnowledgeIndex does).
 */
import { unitCentroids, vectorNorm } from './centroids';
import { rng, shuffleInPlace, softmaxInPlace } from './classifier';
import { EMPTY_VECTOR, extractFeatures, type RawFeatures, type SparseVector, type Vectoriser } from './features';
import {
  forEachExample,
  Model,
  sameTraining,
  type ArticleModel,
  type ClassProbabilities,
  type ModelOptions,
  type ModelParts,
  type WarmSource,
} from './model';
import { sampledVector, sampleSize } from './sample';
import type { KnowledgeArticle } from './types';

/** More changed articles than this wait for the full model instead (a patch's cost grows with each one). */
export const MAX_PATCHED_ARTICLES = 16;

export interface PatchTraining {
  /** Passes over the sample plus the new examples (at least; small sets get more, see minSteps). */
  epochs?: number;
  minSteps?: number;
  maxEpochs?: number;
  /** L2 regularisation per (weighted) example, as in the full model. */
  lambda?: number;
  learningRate?: number;
  seed?: number;
}

const PATCH_DEFAULTS: Required<PatchTraining> = { epochs: 3, minSteps: 5_000, maxEpochs: 100, lambda: 3e-5, learningRate: 1, seed: 1 };

// As in the full training: gradient entries this small do not move the fit.
const GRAD_EPSILON = 1e-4;

export class PatchedModel implements ArticleModel, WarmSource {
  readonly articles: readonly KnowledgeArticle[];
  private readonly baseClasses: number;
  private readonly baseDimension: number;

  constructor(
    private readonly base: ModelParts,
    baseArticles: readonly KnowledgeArticle[],
    /** The patched articles, as they are now (class baseClasses + k). */
    readonly patched: readonly KnowledgeArticle[],
    private readonly vectoriser: Vectoriser,
    /** Feature-major weights of the patched classes: weights[f * patched.length + k]. */
    private readonly weights: Float32Array,
    private readonly bias: Float64Array,
    /** Unit-length centroid of each patched class's training vectors, by feature id. */
    private readonly centroids: ReadonlyArray<ReadonlyMap<number, number>>,
  ) {
    this.baseClasses = baseArticles.length;
    this.baseDimension = base.classifier.dimension;
    this.articles = [...baseArticles, ...patched];
  }

  featureId(block: number, key: string): number | undefined {
    return this.vectoriser.idOf(block, key);
  }

  /** The old classes have no weight on the new columns; the patched ones have theirs. */
  weightOf(feature: number, cls: number): number {
    if (cls < this.baseClasses) return feature < this.baseDimension ? this.base.classifier.weightOf(feature, cls) : 0;
    return this.weights[feature * this.patched.length + cls - this.baseClasses] as number;
  }

  biasOf(cls: number): number {
    return cls < this.baseClasses ? this.base.classifier.biasOf(cls) : (this.bias[cls - this.baseClasses] as number);
  }

  vectorise(text: string): SparseVector {
    if (!text.trim()) return EMPTY_VECTOR;
    return this.vectoriser.transform(extractFeatures(text));
  }

  classify(vector: SparseVector): ClassProbabilities {
    const B = this.baseClasses;
    const K = this.patched.length;
    const logits = new Float64Array(B + K);
    // The old classifier ignores the new columns (ids past its dimension).
    this.base.classifier.scores(vector, logits.subarray(0, B));
    for (let t = 0; t < vector.ids.length; t++) {
      const at = (vector.ids[t] as number) * K;
      const v = vector.values[t] as number;
      for (let k = 0; k < K; k++) logits[B + k] = (logits[B + k] as number) + v * (this.weights[at + k] as number);
    }
    for (let k = 0; k < K; k++) logits[B + k] = (logits[B + k] as number) + (this.bias[k] as number);
    const probabilities = softmaxInPlace(Float64Array.from(logits), this.base.temperature);
    return { probabilities, logits, knownFeatures: vector.ids.length };
  }

  topicSimilarity(vector: SparseVector): Float64Array {
    const B = this.baseClasses;
    const out = new Float64Array(B + this.patched.length);
    out.set(this.base.centroids.similarity(vector));
    const norm = vectorNorm(vector);
    if (norm === 0) return out;
    this.centroids.forEach((centroid, k) => {
      let dot = 0;
      for (let t = 0; t < vector.ids.length; t++) dot += (vector.values[t] as number) * (centroid.get(vector.ids[t] as number) ?? 0);
      out[B + k] = dot / norm;
    });
    return out;
  }

  get byteSize(): number {
    return this.weights.byteLength + this.bias.byteLength;
  }
}

/**
 * `model` patched with the articles of `articles` that it was not trained on as they are now; null when
 * it knows them all, or when more than MAX_PATCHED_ARTICLES changed (then only the full model will do).
 */
export function patchModel(
  model: Model,
  articles: readonly KnowledgeArticle[],
  options: ModelOptions = {},
  training: PatchTraining = {},
): PatchedModel | null {
  const trained = new Map(model.articles.map((a) => [a.id, a]));
  const changed = articles.filter((a) => {
    const before = trained.get(a.id);
    return !before || !sameTraining(before, a);
  });
  if (changed.length === 0 || changed.length > MAX_PATCHED_ARTICLES) return null;

  const parts = Model.partsOf(model);
  const current = new Set(articles.map((a) => a.id));
  const changedIds = new Set(changed.map((a) => a.id));
  // Old classes that no longer compete: deleted articles, and the old versions of the edited ones.
  const retired = Uint8Array.from(model.articles, (a) => (!current.has(a.id) || changedIds.has(a.id) ? 1 : 0));

  const raws: RawFeatures[] = [];
  const labels: number[] = [];
  forEachExample(changed, options, (text, label) => {
    raws.push(extractFeatures(text));
    labels.push(label);
  });
  const vectoriser = parts.vectoriser.extend(raws);
  const vectors = raws.map((raw) => vectoriser.transform(raw));
  const examples = patchExamples(parts, retired, vectors, labels);
  const { weights, bias } = trainPatchedClasses(examples, changed.length, vectoriser.dimension, { ...PATCH_DEFAULTS, ...training });
  return new PatchedModel(parts, model.articles, changed, vectoriser, weights, bias, unitCentroids(vectors, labels, changed.length));
}

/**
 * The patch's training set in one flat layout (vector i is ids/values[offsets[i] .. offsets[i + 1])): the
 * model's sample, whose class is an old one (label -1), then the patched articles' examples (label k).
 * `oldMass` is the log-sum-exp of the old classes' logits (frozen), `weight` how many examples one stands for.
 */
interface PatchExamples {
  offsets: Int32Array;
  ids: Int32Array;
  values: Float32Array;
  labels: Int32Array;
  weights: Float32Array;
  oldMass: Float64Array;
}

function patchExamples(parts: ModelParts, retired: Uint8Array, vectors: readonly SparseVector[], labels: readonly number[]): PatchExamples {
  const { sample, classifier } = parts;
  const B = classifier.classes;
  const kept: number[] = [];
  for (let k = 0; k < sampleSize(sample); k++) if (!retired[sample.labels[k] as number]) kept.push(k);
  const n = kept.length + vectors.length;
  const offsets = new Int32Array(n + 1);
  kept.forEach((k, i) => (offsets[i + 1] = (offsets[i] as number) + ((sample.offsets[k + 1] as number) - (sample.offsets[k] as number))));
  vectors.forEach((v, j) => (offsets[kept.length + j + 1] = (offsets[kept.length + j] as number) + v.ids.length));
  const out: PatchExamples = {
    offsets,
    ids: new Int32Array(offsets[n] as number),
    values: new Float32Array(offsets[n] as number),
    labels: new Int32Array(n),
    weights: new Float32Array(n),
    oldMass: new Float64Array(n),
  };
  kept.forEach((k, i) => {
    const v = sampledVector(sample, k);
    out.ids.set(v.ids, offsets[i] as number);
    out.values.set(v.values, offsets[i] as number);
    out.labels[i] = -1;
    out.weights[i] = sample.weights[k] as number;
    out.oldMass[i] = logSumExp(sample.logits, k * B, B, retired);
  });
  const scores = new Float64Array(B);
  vectors.forEach((v, j) => {
    const i = kept.length + j;
    out.ids.set(v.ids, offsets[i] as number);
    out.values.set(v.values, offsets[i] as number);
    out.labels[i] = labels[j] as number;
    out.weights[i] = 1;
    out.oldMass[i] = logSumExp(classifier.scores(v, scores), 0, B, retired);
  });
  return out;
}

/** Softmax regression of the patched classes against the old classes' frozen log-mass, by SGD (as SoftmaxClassifier.train). */
function trainPatchedClasses(
  data: PatchExamples,
  K: number,
  dimension: number,
  opts: Required<PatchTraining>,
): { weights: Float32Array; bias: Float64Array } {
  const { offsets, ids, values, labels, weights, oldMass } = data;
  const W = new Float32Array(dimension * K);
  const bias = new Float64Array(K);
  const n = labels.length;
  if (n === 0) return { weights: W, bias };
  const z = new Float64Array(K);
  const grad = new Float64Array(K);
  const active = new Int32Array(K);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const random = rng(opts.seed);
  const epochs = Math.max(opts.epochs, Math.min(opts.maxEpochs, Math.ceil(opts.minSteps / n)));
  const total = epochs * n;
  // L2 shrinkage applied lazily through a global scale (true weights = scale * W), as in the full training.
  let scale = 1;
  let step = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    shuffleInPlace(order, random);
    for (let s = 0; s < n; s++) {
      const e = order[s] as number;
      const from = offsets[e] as number;
      const to = offsets[e + 1] as number;
      const label = labels[e] as number;
      const weight = weights[e] as number;
      const mass = oldMass[e] as number;
      const eta = opts.learningRate * (1 - (0.9 * step) / total);
      step++;
      for (let k = 0; k < K; k++) z[k] = bias[k] as number;
      for (let t = from; t < to; t++) {
        const at = (ids[t] as number) * K;
        const v = (values[t] as number) * scale;
        for (let k = 0; k < K; k++) z[k] = (z[k] as number) + v * (W[at + k] as number);
      }
      // Softmax over [old classes (as one log-mass), patched classes].
      let max = mass;
      for (let k = 0; k < K; k++) max = Math.max(max, z[k] as number);
      let denominator = mass === -Infinity ? 0 : Math.exp(mass - max);
      for (let k = 0; k < K; k++) {
        grad[k] = Math.exp((z[k] as number) - max);
        denominator += grad[k] as number;
      }
      let nActive = 0;
      for (let k = 0; k < K; k++) {
        const g = weight * ((grad[k] as number) / denominator - (k === label ? 1 : 0));
        if (g > GRAD_EPSILON || g < -GRAD_EPSILON) {
          active[nActive++] = k;
          grad[k] = g;
          bias[k] = (bias[k] as number) - eta * g;
        }
      }
      scale *= 1 - eta * opts.lambda * weight;
      if (scale < 1e-6) {
        for (let f = 0; f < W.length; f++) W[f] = (W[f] as number) * scale;
        scale = 1;
      }
      if (nActive === 0) continue;
      const stepSize = eta / scale;
      for (let t = from; t < to; t++) {
        const at = (ids[t] as number) * K;
        const v = (values[t] as number) * stepSize;
        for (let a = 0; a < nActive; a++) {
          const k = active[a] as number;
          W[at + k] = (W[at + k] as number) - v * (grad[k] as number);
        }
      }
    }
  }
  if (scale !== 1) for (let f = 0; f < W.length; f++) W[f] = (W[f] as number) * scale;
  return { weights: W, bias };
}

/** log Σ exp(logits[offset + c]) over the classes not retired; -Infinity when all are. */
function logSumExp(logits: ArrayLike<number>, offset: number, classes: number, retired: Uint8Array): number {
  let max = -Infinity;
  for (let c = 0; c < classes; c++) if (!retired[c]) max = Math.max(max, logits[offset + c] as number);
  if (max === -Infinity) return max;
  let sum = 0;
  for (let c = 0; c < classes; c++) if (!retired[c]) sum += Math.exp((logits[offset + c] as number) - max);
  return max + Math.log(sum);
}
