/**
 * A trained snapshot of one tenant's articles: vocabulary + classifier. Immutable once built; the
 * KnowledgeIndex rebuilds it (lazily) after upserts/removes.
 */
import { SoftmaxClassifier, softmaxInPlace, type ClassifierOptions } from './classifier';
import { EMPTY_VECTOR, Vectoriser, extractFeatures, type RawFeatures, type SparseVector, type VectoriserOptions } from './features';
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

/** Fitted on BANKING77 cross-validation folds (see eval.ts): minimises held-out log-loss. */
export const DEFAULT_TEMPERATURE = 1;

export class Model {
  readonly articles: readonly KnowledgeArticle[];
  private readonly vectoriser: Vectoriser;
  private readonly classifier: SoftmaxClassifier;
  private readonly temperature: number;

  private constructor(articles: readonly KnowledgeArticle[], vectoriser: Vectoriser, classifier: SoftmaxClassifier, temperature: number) {
    this.articles = articles;
    this.vectoriser = vectoriser;
    this.classifier = classifier;
    this.temperature = temperature;
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
      addExample(article.body, label, bodyWeight);
    });
    const vectoriser = new Vectoriser(options.vectoriser);
    const vectors = vectoriser.fit(docs);
    const classifier = SoftmaxClassifier.train(vectors, labels, articles.length, vectoriser.dimension, options.classifier);
    return new Model(articles, vectoriser, classifier, options.temperature ?? DEFAULT_TEMPERATURE);
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

  get byteSize(): number {
    return this.classifier.byteSize;
  }
}
