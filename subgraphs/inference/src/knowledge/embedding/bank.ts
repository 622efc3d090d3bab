/**
 * The embedded training examples of one model (each article's questions and title, as unit vectors), and
 * how a question's embedding is scored against them: per article, the cosine of its nearest examples.
 * One bank per trained Model (kept in a WeakMap by KnowledgeIndex), so the serving views of a tenant share
 * it; the few articles an interim patch adds are embedded on their own and appended.
 */
import type { KnowledgeArticle } from '../types';
import type { SentenceEncoder } from './encoder';

export class ExampleBank {
  constructor(
    /** Row-major n × dimension, unit rows. */
    readonly vectors: Float32Array,
    /** Class (article position) of each row. */
    readonly labels: Int32Array,
    readonly classes: number,
    readonly dimension: number,
  ) {}

  /** The texts an article is embedded by: its example questions and its title (deduplicated). */
  static textsOf(article: KnowledgeArticle): string[] {
    return [...new Set([...article.questions, article.title].map((t) => t.trim()).filter((t) => t.length > 0))];
  }

  static async build(encoder: SentenceEncoder, articles: readonly KnowledgeArticle[], firstClass = 0): Promise<ExampleBank> {
    const texts: string[] = [];
    const labels: number[] = [];
    articles.forEach((a, i) => {
      for (const t of ExampleBank.textsOf(a)) {
        texts.push(t);
        labels.push(firstClass + i);
      }
    });
    const embedded = await encoder.embed(texts);
    const d = encoder.dimension;
    const vectors = new Float32Array(texts.length * d);
    embedded.forEach((v, r) => vectors.set(v, r * d));
    return new ExampleBank(vectors, Int32Array.from(labels), firstClass + articles.length, d);
  }

  /** This bank followed by `more` (whose labels already continue this one's). */
  concat(more: ExampleBank): ExampleBank {
    const vectors = new Float32Array(this.vectors.length + more.vectors.length);
    vectors.set(this.vectors);
    vectors.set(more.vectors, this.vectors.length);
    const labels = new Int32Array(this.labels.length + more.labels.length);
    labels.set(this.labels);
    labels.set(more.labels, this.labels.length);
    return new ExampleBank(vectors, labels, Math.max(this.classes, more.classes), this.dimension);
  }

  get byteSize(): number {
    return this.vectors.byteLength + this.labels.byteLength;
  }

  /**
   * Per class: the mean cosine of the query to the class's `k` nearest examples (−1 for a class without
   * examples). The mean of a few, not the single nearest: one mislabelled or odd example should not decide.
   */
  similarities(query: Float32Array, classes: number, k = 2): Float64Array {
    const d = this.dimension;
    const best = new Float64Array(classes * k).fill(-2);
    const n = this.labels.length;
    const v = this.vectors;
    for (let r = 0; r < n; r++) {
      let dot = 0;
      const base = r * d;
      for (let j = 0; j < d; j++) dot += (v[base + j] as number) * (query[j] as number);
      const c = this.labels[r] as number;
      if (c >= classes) continue;
      // Insert into the class's top-k (k is tiny).
      const at = c * k;
      if (dot <= (best[at + k - 1] as number)) continue;
      let p = k - 1;
      while (p > 0 && dot > (best[at + p - 1] as number)) {
        best[at + p] = best[at + p - 1] as number;
        p--;
      }
      best[at + p] = dot;
    }
    const out = new Float64Array(classes);
    for (let c = 0; c < classes; c++) {
      let sum = 0;
      let m = 0;
      for (let i = 0; i < k; i++) {
        const s = best[c * k + i] as number;
        if (s > -2) {
          sum += s;
          m++;
        }
      }
      out[c] = m > 0 ? sum / m : -1;
    }
    return out;
  }
}

/** How word-feature logits and embedding similarities are combined into one calibrated confidence. */
export interface FusionOptions {
  /** Weight of the word-feature model's logits (1/temperature of the feature-only engine). */
  featureWeight?: number;
  /** Weight of the cosine similarity (0..1) in the fused logit. */
  embeddingWeight?: number;
  /** Out-of-scope gate: confidence × sigmoid(gateSlope · (best similarity − gateCentre)). */
  gateSlope?: number;
  gateCentre?: number;
  /** Nearest examples averaged per article. */
  neighbours?: number;
}

/**
 * Defaults fitted on training data only: BANKING77 cross-validation folds and CLINC150's train split
 * (with its oos_train questions for the gate); see eval.ts `--options`.
 */
export const DEFAULT_FUSION: Required<FusionOptions> = {
  featureWeight: 1 / 0.65,
  embeddingWeight: 25,
  gateSlope: 20,
  gateCentre: 0.45,
  neighbours: 2,
};

/** Fused logits in place of the feature logits; returns the gate factor for the best similarity. */
export function fuseLogits(
  logits: Float64Array,
  similarities: Float64Array,
  fusion: Required<FusionOptions>,
): { fused: Float64Array; gate: number } {
  const fused = new Float64Array(logits.length);
  let bestSim = -1;
  for (let i = 0; i < logits.length; i++) {
    const s = similarities[i] ?? -1;
    bestSim = Math.max(bestSim, s);
    fused[i] = fusion.featureWeight * (logits[i] as number) + fusion.embeddingWeight * s;
  }
  const gate = 1 / (1 + Math.exp(-fusion.gateSlope * (bestSim - fusion.gateCentre)));
  return { fused, gate };
}
