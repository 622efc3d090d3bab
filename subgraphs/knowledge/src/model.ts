/**
 * A trained snapshot of one tenant's articles: vocabulary + classifier. Immutable once built; the
 * KnowledgeIndex rebuilds it (lazily) after upserts/removes, and an interim patch (patch.ts) extends it
 * with new articles until the next build.
 */
import {
  SoftmaxClassifier,
  sharedFloat32,
  sharedFloat64,
  softmaxInPlace,
  type ClassifierOptions,
  type ClassifierState,
  type InitialWeights,
} from './classifier';
import {
  BLOCK_COUNT,
  EMPTY_VECTOR,
  Vectoriser,
  extractFeatures,
  type RawFeatures,
  type SparseVector,
  type VectoriserOptions,
  type VectoriserState,
} from './features';
import { Centroids, type CentroidsState } from './centroids';
import { sampleBytes, sampleTraining, type TrainingSample } from './sample';
import type { KnowledgeArticle } from './types';

export interface ModelOptions {
  vectoriser?: VectoriserOptions;
  classifier?: ClassifierOptions;
  /** Softmax temperature applied to the logits to turn them into calibrated confidences. */
  temperature?: number;
  /** Weight of the article title and body as training examples, relative to one example question. */
  titleWeight?: number;
  bodyWeight?: number;
  /**
   * Classifier settings for a warm start (training continued from a previous model's weights after an
   * upsert or delete): one pass over the data at a lower learning rate instead of a cold fit.
   */
  warmClassifier?: ClassifierOptions;
  /** Training examples kept per article for interim patches (sample.ts). */
  samplePerClass?: number;
}

/** A model as plain data whose big arrays are shared memory: what a build worker posts back. */
export interface ModelState {
  articles: KnowledgeArticle[];
  vectoriser: VectoriserState;
  classifier: ClassifierState;
  centroids: CentroidsState;
  sample: TrainingSample;
  temperature: number;
}

/** What a warm start reads previous weights from: a trained model, or one extended by a patch. */
export interface WarmSource {
  /** Class i is articles[i]; for an id that appears twice, the later class is the current one. */
  readonly articles: readonly KnowledgeArticle[];
  featureId(block: number, key: string): number | undefined;
  weightOf(feature: number, cls: number): number;
  biasOf(cls: number): number;
}

export interface BuildOptions {
  /** A previous model of the same tenant: its weights are carried over (by feature name and article id). */
  warmFrom?: WarmSource | null;
  /** Memo of extracted features by text, read and refreshed by the build (cached across builds). */
  featureCache?: Map<string, RawFeatures>;
}

/** Warm start: one pass at a third of the cold learning rate, still decaying to a tenth of it. */
export const DEFAULT_WARM_CLASSIFIER: ClassifierOptions = { epochs: 1, minSteps: 5_000, learningRate: 0.7 };
export interface ClassProbabilities {
  /** Calibrated probability per article (same order as Model.articles). */
  probabilities: Float64Array;
  /** Raw logits per article. */
  logits: Float64Array;
  /** How many of the query's features are known to the vocabulary (0 → the model knows nothing about it). */
  knownFeatures: number;
}

/** What a KnowledgeIndex answers with: a trained Model, or one extended by an interim patch. */
export interface ArticleModel {
  /** Class i is articles[i]; an id may appear twice in a patch (its newer class is the later one). */
  readonly articles: readonly KnowledgeArticle[];
  vectorise(text: string): SparseVector;
  classify(vector: SparseVector): ClassProbabilities;
  /** Term-overlap similarity of a text to each article (for context turns). */
  topicSimilarity(vector: SparseVector): Float64Array;
  readonly byteSize: number;
}

/** The parts of a trained model that a patch builds on. */
export interface ModelParts {
  vectoriser: Vectoriser;
  classifier: SoftmaxClassifier;
  centroids: Centroids;
  sample: TrainingSample;
  temperature: number;
}

/**
 * Fitted on BANKING77 5-fold cross-validation (`eval --calibrate`): the temperature that minimises the
 * held-out log-loss. Below 1 because L2 regularisation and early stopping leave the raw softmax underconfident.
 */
export const DEFAULT_TEMPERATURE = 0.65;

export class Model implements ArticleModel, WarmSource {
  readonly articles: readonly KnowledgeArticle[];
  private readonly vectoriser: Vectoriser;
  private readonly classifier: SoftmaxClassifier;
  private readonly centroids: Centroids;
  private readonly sample: TrainingSample;
  private readonly temperature: number;

  private constructor(articles: readonly KnowledgeArticle[], parts: ModelParts) {
    this.articles = articles;
    this.vectoriser = parts.vectoriser;
    this.classifier = parts.classifier;
    this.centroids = parts.centroids;
    this.sample = parts.sample;
    this.temperature = parts.temperature;
  }

  static fromState(state: ModelState): Model {
    return new Model(state.articles, {
      vectoriser: Vectoriser.fromState(state.vectoriser),
      classifier: SoftmaxClassifier.fromState(state.classifier),
      centroids: Centroids.fromState(state.centroids),
      sample: state.sample,
      temperature: state.temperature,
    });
  }

  toState(): ModelState {
    return {
      articles: [...this.articles],
      vectoriser: this.vectoriser.toState(),
      classifier: this.classifier.toState(),
      centroids: this.centroids.toState(),
      sample: this.sample,
      temperature: this.temperature,
    };
  }

  static build(articles: readonly KnowledgeArticle[], options: ModelOptions = {}, build: BuildOptions = {}): Model {
    const docs: RawFeatures[] = [];
    const labels: number[] = [];
    const cache = build.featureCache;
    const used = cache ? new Map<string, RawFeatures>() : null;
    const featuresOf = (text: string): RawFeatures => {
      let raw = used?.get(text) ?? cache?.get(text);
      if (!raw) raw = extractFeatures(text);
      used?.set(text, raw);
      return raw;
    };
    forEachExample(articles, options, (text, label) => {
      docs.push(featuresOf(text));
      labels.push(label);
    });
    if (cache && used) {
      // Keep exactly this build's texts: the next (warm) build of the tenant re-extracts only what changed.
      cache.clear();
      for (const [text, raw] of used) cache.set(text, raw);
    }
    const vectoriser = new Vectoriser(options.vectoriser);
    const vectors = vectoriser.fit(docs);
    const warm = build.warmFrom ? carryOver(build.warmFrom, articles, vectoriser) : null;
    const classifier = warm
      ? SoftmaxClassifier.train(
          vectors,
          labels,
          articles.length,
          vectoriser.dimension,
          { ...options.classifier, ...(options.warmClassifier ?? DEFAULT_WARM_CLASSIFIER) },
          warm,
        )
      : SoftmaxClassifier.train(vectors, labels, articles.length, vectoriser.dimension, options.classifier);
    const centroids = Centroids.fit(vectors, labels, articles.length, vectoriser.dimension);
    const sample = sampleTraining(vectors, labels, classifier, options.samplePerClass);
    return new Model(articles, { vectoriser, classifier, centroids, sample, temperature: options.temperature ?? DEFAULT_TEMPERATURE });
  }

  /** For warm starts and patches: the vocabulary, weights and training sample of a model. */
  static partsOf(model: Model): ModelParts {
    return {
      vectoriser: model.vectoriser,
      classifier: model.classifier,
      centroids: model.centroids,
      sample: model.sample,
      temperature: model.temperature,
    };
  }

  vectorise(text: string): SparseVector {
    if (!text.trim()) return EMPTY_VECTOR;
    return this.vectoriser.transform(extractFeatures(text));
  }

  /** Size of the vocabulary: ids of vectorise()'s features are below it. */
  get featureDimension(): number {
    return this.vectoriser.dimension;
  }

  featureId(block: number, key: string): number | undefined {
    return this.vectoriser.idOf(block, key);
  }

  weightOf(feature: number, cls: number): number {
    return this.classifier.weightOf(feature, cls);
  }

  biasOf(cls: number): number {
    return this.classifier.biasOf(cls);
  }

  classify(vector: SparseVector): ClassProbabilities {
    const logits = this.classifier.scores(vector);
    const probabilities = softmaxInPlace(Float64Array.from(logits), this.temperature);
    return { probabilities, logits, knownFeatures: vector.ids.length };
  }

  /** Term-overlap similarity of a text to each article (for context turns). */
  topicSimilarity(vector: SparseVector): Float64Array {
    return this.centroids.similarity(vector);
  }

  get byteSize(): number {
    return this.classifier.byteSize + this.centroids.byteSize + sampleBytes(this.sample);
  }
}

/**
 * Calls fn for every training example of `articles` (label = the article's position): each question, the
 * title and each body sentence, repeated by their weights (SGD treats repetition exactly like a weight).
 */
export function forEachExample(
  articles: readonly KnowledgeArticle[],
  options: ModelOptions,
  fn: (text: string, label: number) => void,
): void {
  const titleWeight = options.titleWeight ?? 1;
  const bodyWeight = options.bodyWeight ?? 1;
  const add = (text: string, label: number, weight: number): void => {
    if (!text.trim()) return;
    for (let r = 0; r < weight; r++) fn(text, label);
  };
  articles.forEach((article, label) => {
    for (const q of article.questions) add(q, label, 1);
    add(article.title, label, titleWeight);
    // Each body sentence is its own example: a long body as one document dilutes every term in it.
    for (const sentence of splitSentences(article.body)) add(sentence, label, bodyWeight);
  });
}

/** True when two versions of an article train the same class (same questions, title and body). */
export function sameTraining(a: KnowledgeArticle, b: KnowledgeArticle): boolean {
  if (a === b) return true;
  if (a.title !== b.title || a.body !== b.body || a.questions.length !== b.questions.length) return false;
  for (let i = 0; i < a.questions.length; i++) if (a.questions[i] !== b.questions[i]) return false;
  return true;
}

/**
 * Lays the previous model's weights out for the new vocabulary and article order: features matched by
 * name, classes by article id; new features and new articles start at zero. Null when nothing carries
 * over (e.g. every article is new), so the caller trains cold.
 */
function carryOver(previous: WarmSource, articles: readonly KnowledgeArticle[], vectoriser: Vectoriser): InitialWeights | null {
  const oldClass = new Map(previous.articles.map((a, i) => [a.id, i]));
  const C = articles.length;
  const map = new Int32Array(C).fill(-1);
  let carried = 0;
  articles.forEach((a, c) => {
    const o = oldClass.get(a.id);
    if (o !== undefined) {
      map[c] = o;
      carried++;
    }
  });
  if (carried === 0) return null;
  const weights = sharedFloat32(C * vectoriser.dimension);
  const bias = sharedFloat64(C);
  for (let c = 0; c < C; c++) if ((map[c] as number) >= 0) bias[c] = previous.biasOf(map[c] as number);
  vectoriser.forEachFeature((block, key, id) => {
    if (block >= BLOCK_COUNT) return;
    const oldId = previous.featureId(block, key);
    if (oldId === undefined) return;
    const base = id * C;
    for (let c = 0; c < C; c++) {
      const o = map[c] as number;
      if (o >= 0) weights[base + c] = previous.weightOf(oldId, o);
    }
  });
  return { weights, bias };
}

/** Sentence-ish chunks of an article body (Latin and CJK punctuation, line breaks). */
export function splitSentences(text: string): string[] {
  return text
    .split(/[。！？!?；;\n]+|(?<=[.])\s+/u)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
