/**
 * Multinomial logistic regression over sparse TF-IDF vectors, trained by SGD at index-build time.
 * Chosen over a linear SVM because its softmax output is already close to a probability, which is
 * what the confidence threshold needs; measured accuracy is on par with a one-vs-rest SVM.
 */
import type { SparseVector } from './features';

export interface ClassifierOptions {
  /** Passes over the training set (at least; small sets get more, see minSteps). */
  epochs?: number;
  /** Small knowledge bases get extra passes until this many SGD steps: a 100-question KB would be badly under-fitted by 3 passes, and the extra passes cost milliseconds. */
  minSteps?: number;
  /** Upper bound on passes for tiny sets. */
  maxEpochs?: number;
  /** L2 regularisation strength (per example). */
  lambda?: number;
  /** Initial learning rate; decays linearly to a tenth of it over training. */
  learningRate?: number;
  /** Seed for the example shuffle, so builds are reproducible. */
  seed?: number;
}

/**
 * Weights to start from (warm start), already laid out for the new feature and class ids (classes × dimension,
 * on shared memory): training continues in these arrays, which become the classifier's.
 */
export interface InitialWeights {
  weights: Float32Array;
  bias: Float64Array;
}

/** Everything a trained classifier is; its arrays live on SharedArrayBuffers, so it crosses threads without a copy. */
export interface ClassifierState {
  classes: number;
  dimension: number;
  weights: Float32Array;
  bias: Float64Array;
}

/** A Float32Array/Float64Array on shared memory: posted to another thread it is shared, not copied. */
export function sharedFloat32(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(Math.max(1, length) * 4), 0, length);
}
export function sharedFloat64(length: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(Math.max(1, length) * 8), 0, length);
}
export function sharedInt32(length: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(Math.max(1, length) * 4), 0, length);
}

const DEFAULTS: Required<ClassifierOptions> = { epochs: 3, minSteps: 20_000, maxEpochs: 100, lambda: 3e-5, learningRate: 2, seed: 1 };

// Gradient entries smaller than this are skipped: once a class is clearly ruled out for an example its
// softmax gradient is ~0, so skipping it makes later epochs several times cheaper without changing the fit.
const GRAD_EPSILON = 1e-4;

/** Deterministic xorshift PRNG: no global Math.random state, identical builds for identical input. */
export function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle in place with `random` (a seeded rng): SGD visits examples in a new order each epoch. */
export function shuffleInPlace(items: Int32Array | number[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = items[i] as number;
    items[i] = items[j] as number;
    items[j] = tmp;
  }
}

export class SoftmaxClassifier {
  readonly classes: number;
  readonly dimension: number;
  /** Feature-major weights: weights[f * classes + c], so scoring touches contiguous memory per feature. */
  private readonly weights: Float32Array;
  private readonly bias: Float64Array;

  private constructor(classes: number, dimension: number, weights?: Float32Array, bias?: Float64Array) {
    this.classes = classes;
    this.dimension = dimension;
    this.weights = weights ?? sharedFloat32(classes * dimension);
    this.bias = bias ?? sharedFloat64(classes);
  }

  static fromState(state: ClassifierState): SoftmaxClassifier {
    return new SoftmaxClassifier(state.classes, state.dimension, state.weights, state.bias);
  }

  toState(): ClassifierState {
    return { classes: this.classes, dimension: this.dimension, weights: this.weights, bias: this.bias };
  }

  /** Weight of feature `f` for class `c` (for warm starts). */
  weightOf(f: number, c: number): number {
    return this.weights[f * this.classes + c] as number;
  }

  biasOf(c: number): number {
    return this.bias[c] as number;
  }

  static train(
    vectors: readonly SparseVector[],
    labels: ArrayLike<number>,
    classes: number,
    dimension: number,
    options: ClassifierOptions = {},
    init?: InitialWeights,
  ): SoftmaxClassifier {
    const opts = { ...DEFAULTS, ...options };
    // A warm start trains on in its initial arrays (shared memory, sized for this model) rather than a copy.
    const model = new SoftmaxClassifier(classes, dimension, init?.weights, init?.bias);
    const n = vectors.length;
    if (n === 0 || classes === 0) return model;
    const W = model.weights;
    const bias = model.bias;
    const C = classes;
    const scores = new Float64Array(C);
    const grad = new Float64Array(C);
    const active = new Int32Array(C);
    const order = Int32Array.from({ length: n }, (_, i) => i);
    const random = rng(opts.seed);
    // L2 shrinkage is applied lazily through a global scale (true weights = scale * W).
    let scale = 1;
    const epochs = Math.max(opts.epochs, Math.min(opts.maxEpochs, Math.ceil(opts.minSteps / n)));
    const total = epochs * n;
    let step = 0;
    for (let epoch = 0; epoch < epochs; epoch++) {
      shuffleInPlace(order, random);
      for (let k = 0; k < n; k++) {
        const idx = order[k] as number;
        const x = vectors[idx] as SparseVector;
        const y = labels[idx] as number;
        const eta = opts.learningRate * (1 - (0.9 * step) / total);
        step++;
        model.rawScores(x, scores, scale);
        softmaxInPlace(scores);
        let nActive = 0;
        for (let c = 0; c < C; c++) {
          const g = (scores[c] as number) - (c === y ? 1 : 0);
          if (g > GRAD_EPSILON || g < -GRAD_EPSILON) {
            active[nActive++] = c;
            grad[c] = g;
            bias[c] = (bias[c] as number) - eta * g;
          }
        }
        scale *= 1 - eta * opts.lambda;
        if (scale < 1e-6) {
          for (let f = 0; f < W.length; f++) W[f] = (W[f] as number) * scale;
          scale = 1;
        }
        if (nActive === 0) continue;
        const ids = x.ids;
        const vals = x.values;
        const step0 = eta / scale;
        for (let t = 0; t < ids.length; t++) {
          const base = (ids[t] as number) * C;
          const v = (vals[t] as number) * step0;
          for (let a = 0; a < nActive; a++) {
            const c = active[a] as number;
            W[base + c] = (W[base + c] as number) - v * (grad[c] as number);
          }
        }
      }
    }
    if (scale !== 1) for (let f = 0; f < W.length; f++) W[f] = (W[f] as number) * scale;
    return model;
  }

  /** Logits (unnormalised log-probabilities) for one vector, written into `out`. */
  scores(x: SparseVector, out: Float64Array = new Float64Array(this.classes)): Float64Array {
    return this.rawScores(x, out, 1);
  }

  private rawScores(x: SparseVector, out: Float64Array, scale: number): Float64Array {
    const C = this.classes;
    const W = this.weights;
    out.fill(0);
    const ids = x.ids;
    const vals = x.values;
    for (let t = 0; t < ids.length; t++) {
      const id = ids[t] as number;
      if (id >= this.dimension) continue;
      const base = id * C;
      const v = (vals[t] as number) * scale;
      for (let c = 0; c < C; c++) out[c] = (out[c] as number) + v * (W[base + c] as number);
    }
    for (let c = 0; c < C; c++) out[c] = (out[c] as number) + (this.bias[c] as number);
    return out;
  }

  /** Bytes held by the model's arrays (for memory reporting). */
  get byteSize(): number {
    return this.weights.byteLength + this.bias.byteLength;
  }
}

/** Numerically stable softmax, in place; `temperature` > 1 flattens, < 1 sharpens. */
export function softmaxInPlace(values: Float64Array, temperature = 1): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) if ((values[i] as number) > max) max = values[i] as number;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const e = Math.exp(((values[i] as number) - max) / temperature);
    values[i] = e;
    sum += e;
  }
  if (sum > 0) for (let i = 0; i < values.length; i++) values[i] = (values[i] as number) / sum;
  return values;
}
