/**
 * A trained snapshot of one tenant's articles: vocabulary + classifier. Immutable once built; the
 * KnowledgeIndex rebuilds it (lazily) after upserts/removes.
 */
import { SoftmaxClassifier, softmaxInPlace, type ClassifierOptions } from './classifier';
import { EMPTY_VECTOR, Vectoriser, extractFeatures, type RawFeatures, type SparseVector, type VectoriserOptions } from './features';
import { Centroids } from './centroids';
import type { KnowledgeArticle } from './types';

export interface ModelOptions {
  vectoriser?: VectoriserOptions;
  classifier?: ClassifierOptions;
  /** Softmax temperature applied to the logits to turn them into calibrated confidences. */
  temperature?: number;
  /** Weight of the article title and body as training examples, relative to one example question. */
  titleWeight?: number;
  bodyWeight?: number;
}

export interface ClassProbabilities {
  /** Calibrated probability per article (same order as Model.articles). */
  probabilities: Float64Array;
  /** Raw logits per article. */
  logits: Float64Array;
  /** How many of the query's features are known to the vocabulary (0 → the model knows nothing about it). */
  knownFeatures: number;
}

/**
 * Fitted on BANKING77 5-fold cross-validation (`eval --calibrate`): the temperature that minimises the
 * held-out log-loss. Below 1 because L2 regularisation and early stopping leave the raw softmax underconfident.
 */
export const DEFAULT_TEMPERATURE = 0.65;

export class Model {
  readonly articles: readonly KnowledgeArticle[];
  private readonly vectoriser: Vectoriser;
  private readonly classifier: SoftmaxClassifier;
  private readonly centroids: Centroids;
  private readonly temperature: number;

  private constructor(
    articles: readonly KnowledgeArticle[],
    vectoriser: Vectoriser,
    classifier: SoftmaxClassifier,
    centroids: Centroids,
    options: ModelOptions,
  ) {
    this.centroids = centroids;
    this.articles = articles;
    this.vectoriser = vectoriser;
    this.classifier = classifier;
    this.temperature = options.temperature ?? DEFAULT_TEMPERATURE;
  }

  static build(articles: readonly KnowledgeArticle[], options: ModelOptions = {}): Model {
    const docs: RawFeatures[] = [];
    const labels: number[] = [];
    const titleWeight = options.titleWeight ?? 1;
    const bodyWeight = options.bodyWeight ?? 1;
    // Example weights are realised by repetition: simple, and SGD treats them exactly like weights.
    const addExample = (text: string, label: number, weight: number): void => {
      if (!text.trim() || weight <= 0) return;
      const raw = extractFeatures(text);
      for (let r = 0; r < weight; r++) {
        docs.push(raw);
        labels.push(label);
      }
    };
    articles.forEach((article, label) => {
      for (const q of article.questions) addExample(q, label, 1);
      addExample(article.title, label, titleWeight);
      // Each body sentence is its own example: a long body as one document dilutes every term in it.
      for (const sentence of splitSentences(article.body)) addExample(sentence, label, bodyWeight);
    });
    const vectoriser = new Vectoriser(options.vectoriser);
    const vectors = vectoriser.fit(docs);
    const classifier = SoftmaxClassifier.train(vectors, labels, articles.length, vectoriser.dimension, options.classifier);
    const centroids = new Centroids(vectors, labels, articles.length, vectoriser.dimension);
    return new Model(articles, vectoriser, classifier, centroids, options);
  }

  vectorise(text: string): SparseVector {
    if (!text.trim()) return EMPTY_VECTOR;
    return this.vectoriser.transform(extractFeatures(text));
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
    return this.classifier.byteSize + this.centroids.byteSize;
  }
}

/** Sentence-ish chunks of an article body (Latin and CJK punctuation, line breaks). */
export function splitSentences(text: string): string[] {
  return text
    .split(/[。！？!?；;\n]+|(?<=[.])\s+/u)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
