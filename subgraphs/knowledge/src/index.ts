/**
 * Built-in knowledge-base answer engine: one KnowledgeIndex per tenant. Given a customer question (and
 * the session's recent turns) it ranks the tenant's help-centre articles with a calibrated confidence.
 *
 * Model: TF-IDF over stemmed words, word bigrams, co-occurring word pairs and character n-grams, fed to a
 * multinomial logistic regression trained on each article's example questions, title and body.
 * Training happens lazily: upsert/remove only mark the index dirty, and the next search (or an explicit
 * rebuild()) retrains (~1.5 s for 10k example questions on a 2-core box; ~50 ms for 100), so loading N
 * articles costs one build, not N. The service does not train on its event loop: KnowledgeCache trains in
 * a worker thread (builder.ts, warm-started from the previous model) and serves `KnowledgeIndex.serving`
 * views meanwhile: the last trained model over the current article set, with the articles it was not
 * trained on learned by an interim patch (patch.ts) in milliseconds.
 */
import { isFollowUp } from './context';
import { blend, type SparseVector } from './features';
import { softmaxInPlace } from './classifier';
import { Model, type ArticleModel, type ModelOptions } from './model';
import { patchModel, PatchedModel, type PatchTraining } from './patch';
import type { KnowledgeArticle, RankedArticle, SearchOptions, SearchResult } from './types';
import { ExampleBank, fuseLogits, fusionFor } from './embedding/bank';
import type { FusionOptions } from './embedding/bank';
import type { SentenceEncoder } from './embedding/encoder';

export type { KnowledgeArticle, RankedArticle, SearchOptions, SearchResult } from './types';
export type { ArticleModel, ModelOptions, ModelState } from './model';
export { Model } from './model';
export { DEFAULT_TEMPERATURE } from './model';
export { normalise, segmentWords, stem, tokenise } from './text';
export { SentenceEncoder, defaultModelDir, modelPresent, EMBEDDING_MODEL, EMBEDDING_MODELS, embeddingModelName } from './embedding/encoder';
export { DEFAULT_FUSION, MODEL_FUSION, fusionFor, type FusionOptions } from './embedding/bank';

/**
 * The process's sentence encoder (loaded once at start-up from the model cache, see encoder.ts), used by
 * every KnowledgeIndex that is not given one. Null: word features only.
 */
let processEncoder: SentenceEncoder | null = null;
export function useSentenceEncoder(encoder: SentenceEncoder | null): void {
  processEncoder = encoder;
}
export function currentSentenceEncoder(): SentenceEncoder | null {
  return processEncoder;
}

/** Embedded examples per trained model, shared by all serving views of it (patched articles are added per view). */
const banks = new WeakMap<Model, Promise<ExampleBank>>();

/**
 * Default confidence needed to answer. Chosen on 5-fold cross-validation of BANKING77 (see eval.ts):
 * at this threshold ~2.5% of all questions are answered confidently but wrongly (bar: < 3%), while
 * ~84% are answered; the rest get suggestions only.
 */
export const DEFAULT_CONFIDENCE_THRESHOLD = 0.8;

const DEFAULT_LIMIT = 3;

/**
 * Confidences are capped just below 1: a model fitted on a handful of examples never justifies certainty
 * (softmax rounds to exactly 1.0 on tiny knowledge bases), and a threshold of 1 then means "always ask a human".
 */
const MAX_CONFIDENCE = 0.9999;

export interface KnowledgeIndexOptions extends ModelOptions {
  /** Weight of the context's topic similarity (cosine, 0..1) against the question's log-probability. */
  contextWeight?: number;
  /** Training of interim patches (serving()). */
  patch?: PatchTraining;
  /** Sentence encoder for searchAsync (default: the process's, see useSentenceEncoder); null turns it off. */
  encoder?: SentenceEncoder | null;
  /** How embedding similarities are combined with the word-feature model (embedding/bank.ts). */
  fusion?: FusionOptions;
}

export interface AsyncSearchOptions extends SearchOptions {
  /** Wait for the knowledge base's examples to be embedded (default: answer with word features meanwhile). */
  waitForEmbeddings?: boolean;
}

// Strong on purpose: within the gated candidates the context is what disambiguates.
const DEFAULT_CONTEXT_WEIGHT = 30;
/** Candidates for a follow-up: articles with at least this fraction of the question's top probability. */
const CANDIDATE_FLOOR = 0.02;

const EMPTY_RESULT: SearchResult = Object.freeze({ confident: false, best: null, ranked: [], usedContext: false });

interface Scored {
  /** Calibrated probabilities (for a fused score: already times the out-of-scope gate). */
  probabilities: Float64Array;
  logits: Float64Array;
  confidence: number;
  known: boolean;
}

export class KnowledgeIndex {
  private readonly articles = new Map<string, KnowledgeArticle>();
  private readonly options: KnowledgeIndexOptions;
  /** What questions are answered with: the trained model, or that model with an interim patch. */
  private model: ArticleModel | null = null;
  private trained: Model | null = null;
  /**
   * Per model class: 1 when it must not answer, because its article is no longer in the index (deleted since
   * the model was trained) or a patch learned the article's current version as a later class.
   */
  private excluded: Uint8Array | null = null;
  /** Per model class: the article as it is now (an upsert may have changed its title or body since). */
  private current: KnowledgeArticle[] | null = null;
  /** Confidence needed to answer when a search does not pass one (a tenant's setting). */
  threshold: number;
  /** The embedded examples of `model`'s classes, once built (prepareEmbeddings()). */
  private bank: { model: ArticleModel; bank: ExampleBank } | null = null;
  private bankPending: Promise<ExampleBank | null> | null = null;

  constructor(options: KnowledgeIndexOptions & { threshold?: number } = {}) {
    this.options = options;
    this.threshold = options.threshold ?? DEFAULT_CONFIDENCE_THRESHOLD;
  }

  /**
   * An index over `articles` that answers with an already trained `model` (e.g. trained off the event
   * loop, possibly before the latest changes): articles deleted since it was trained are never returned,
   * and articles added or edited since are learned at once by an interim patch of the model (up to
   * MAX_PATCHED_ARTICLES of them; beyond that they are not found, edited ones are quoted as they are now,
   * until the next model).
   */
  static serving(
    model: Model | null,
    articles: readonly KnowledgeArticle[],
    options: KnowledgeIndexOptions & { threshold?: number } = {},
  ): KnowledgeIndex {
    const index = new KnowledgeIndex(options);
    for (const a of articles) index.articles.set(a.id, a);
    index.trained = model;
    index.model = model ? (patchModel(model, articles, options, options.patch) ?? model) : null;
    index.restrictToArticles();
    return index;
  }

  /** Excludes the model's classes that must not answer, and quotes each article as it is now. */
  private restrictToArticles(): void {
    const model = this.model;
    if (!model) return;
    const newest = new Map(model.articles.map((a, i) => [a.id, i]));
    const excluded = new Uint8Array(model.articles.length);
    let any = false;
    this.current = model.articles.map((a, i) => {
      const now = this.articles.get(a.id);
      if (!now || newest.get(a.id) !== i) {
        excluded[i] = 1;
        any = true;
      }
      return now ?? a;
    });
    this.excluded = any ? excluded : null;
  }

  /** Ids of articles in the index that its model cannot find yet. */
  get untrained(): string[] {
    if (!this.model) return this.articles.size > 0 ? [...this.articles.keys()] : [];
    const known = new Set(this.model.articles.map((a) => a.id));
    return [...this.articles.keys()].filter((id) => !known.has(id));
  }

  /** Ids of the articles an interim patch learned (found already, until the next trained model). */
  get patched(): string[] {
    return this.model instanceof PatchedModel ? this.model.patched.map((a) => a.id) : [];
  }

  /** The trained model (shared, immutable), e.g. to warm-start the next one. */
  get trainedModel(): Model | null {
    return this.trained;
  }

  /** Add or replace an article by id. Cheap: the model is retrained on the next search or rebuild(). */
  upsert(article: KnowledgeArticle): void {
    // Copy so later mutation of the caller's object cannot silently desynchronise the trained model.
    this.articles.set(article.id, { ...article, questions: [...article.questions] });
    this.invalidate();
  }

  remove(id: string): boolean {
    const removed = this.articles.delete(id);
    if (removed) this.invalidate();
    return removed;
  }

  private invalidate(): void {
    this.bank = null;
    this.bankPending = null;
    this.model = null;
    this.trained = null;
    this.excluded = null;
    this.current = null;
  }

  get size(): number {
    return this.articles.size;
  }

  /** Retrain now (e.g. right after loading a tenant) instead of on the first search. */
  rebuild(): void {
    this.invalidate();
    this.trained = this.articles.size > 0 ? Model.build([...this.articles.values()], this.options) : null;
    this.model = this.trained;
  }

  /** Bytes held by the trained model's typed arrays (the vocabulary maps are on the JS heap besides). */
  get modelBytes(): number {
    return (this.model?.byteSize ?? 0) + (this.bank?.bank.byteSize ?? 0);
  }

  private get encoder(): SentenceEncoder | null {
    return this.options.encoder === undefined ? processEncoder : this.options.encoder;
  }

  /** Whether the model's language fits the knowledge base: some article written in English (the model's language). */
  private get embeddable(): boolean {
    for (const a of this.articles.values()) if (/^en\b/i.test(a.locale) || a.locale === '') return true;
    return false;
  }

  /** True when searchAsync can use sentence embeddings now. */
  get embeddingsReady(): boolean {
    return this.bank !== null && this.bank.model === this.model;
  }

  /**
   * Embeds the knowledge base's examples for the current model (the trained model's once, shared by its
   * serving views; articles added by a patch on top). Null without an encoder or articles.
   */
  prepareEmbeddings(): Promise<ExampleBank | null> {
    const encoder = this.encoder;
    if (!encoder || this.articles.size === 0 || !this.embeddable) return Promise.resolve(null);
    if (!this.model) this.rebuild();
    const model = this.model;
    const trained = this.trained;
    if (!model || !trained) return Promise.resolve(null);
    if (this.bank?.model === model) return Promise.resolve(this.bank.bank);
    if (this.bankPending) return this.bankPending;
    let base = banks.get(trained);
    if (!base) {
      const fusion = fusionFor(encoder.name, this.options.fusion);
      base = ExampleBank.build(encoder, trained.articles, 0, fusion.headWeight !== 0 ? fusion.head : null, trained);
      banks.set(trained, base);
      base.catch(() => banks.delete(trained));
    }
    const extra = model.articles.slice(trained.articles.length);
    const pending = base.then(async (b) =>
      extra.length > 0 ? b.concat(await ExampleBank.build(encoder, extra, trained.articles.length)) : b,
    );
    this.bankPending = pending.then(
      (bank) => {
        if (this.model === model) this.bank = { model, bank };
        this.bankPending = null;
        return bank;
      },
      (error: unknown) => {
        this.bankPending = null;
        throw error;
      },
    );
    return this.bankPending;
  }

  /**
   * search() with sentence embeddings when an encoder is available: the question is embedded and scored
   * against the examples' embeddings as well as by the word-feature model (fused, embedding/bank.ts).
   * Until the examples are embedded (right after a build), it answers with word features alone.
   */
  async searchAsync(question: string, options: AsyncSearchOptions = {}): Promise<SearchResult> {
    const encoder = this.encoder;
    if (!encoder || this.articles.size === 0 || !question.trim() || !encoder.covers(question) || !this.embeddable)
      return this.search(question, options);
    if (!this.embeddingsReady) {
      const pending = this.prepareEmbeddings();
      if (options.waitForEmbeddings) await pending;
      else pending.catch(() => undefined);
    }
    if (!this.embeddingsReady) return this.search(question, options);
    const last = options.context?.filter((t) => typeof t === 'string' && t.trim()).at(-1);
    const joined = last && isShortQuestion(question) && encoder.covers(last) ? `${last} ${question}` : null;
    const [embedding, joinedEmbedding] = await encoder.embed(joined ? [question, joined] : [question]);
    return this.search(question, { ...options, embedding, joinedEmbedding });
  }

  search(question: string, options: SearchOptions & { embedding?: Float32Array; joinedEmbedding?: Float32Array } = {}): SearchResult {
    if (this.articles.size === 0) return EMPTY_RESULT;
    if (!this.model) this.rebuild();
    const model = this.model;
    if (!model) return EMPTY_RESULT;
    const threshold = options.threshold ?? this.threshold;
    const limit = Math.max(0, options.limit ?? DEFAULT_LIMIT);

    const bankReady = this.bank?.model === model;
    let chosen = this.score(model, model.vectorise(question), bankReady ? options.embedding : undefined);
    let usedContext = false;

    const context = (options.context ?? []).filter((t) => typeof t === 'string' && t.trim());
    // Only a follow-up ("and how long does that take?") is read in the light of the session's earlier turns.
    // A self-contained question is left alone even when unsure: earlier, unrelated questions raised its
    // confidence in the wrong article often enough (the Chinese held-out set asked in one session) to make
    // confident wrong answers, which are worse than an honest "not sure".
    if (context.length > 0 && isFollowUp(question)) {
      const withContext = this.withContext(model, chosen, context);
      if (withContext.known) {
        chosen = withContext;
        usedContext = true;
      }
    } else if (context.length > 0 && chosen.confidence < threshold && isShortQuestion(question)) {
      // A short question the knowledge base cannot place on its own ("What should I do now?", "Why?") is
      // read together with the previous turn, scored as one text by the same model. That reading ranks the
      // articles (first suggestion, the LLM engine's prompt) but is never confident on its own: a question
      // that is not a follow-up after all must not be answered confidently from an unrelated earlier turn.
      const joined = this.score(
        model,
        model.vectorise(`${context[context.length - 1] as string} ${question}`),
        bankReady ? options.joinedEmbedding : undefined,
      );
      if (joined.known && joined.confidence > chosen.confidence) {
        chosen = capConfidence(joined, threshold * UNSURE_FACTOR);
        usedContext = true;
      }
    }

    if (!chosen.known) return { ...EMPTY_RESULT, usedContext };
    const top = topK(chosen, Math.max(1, limit), this.excluded).map((i): RankedArticle => ({
      article: (this.current?.[i] ?? model.articles[i]) as KnowledgeArticle,
      score: chosen.logits[i] as number,
      confidence: Math.min(MAX_CONFIDENCE, chosen.probabilities[i] as number),
    }));
    const best = top[0] ?? null;
    const ranked = top.slice(0, limit);
    return { confident: best !== null && best.confidence >= threshold, best, ranked, usedContext };
  }

  private score(model: ArticleModel, vector: SparseVector, embedding?: Float32Array): Scored {
    const classified = model.classify(vector);
    let { probabilities, logits } = classified;
    let known = classified.knownFeatures > 0;
    let gate = 1;
    const bank = this.bank?.bank;
    if (embedding && bank) {
      const fusion = fusionFor(this.encoder?.name, this.options.fusion);
      const sims = bank.similarities(embedding, probabilities.length, fusion.neighbours, topIndices(logits, fusion.candidates));
      const fused = fuseLogits(logits, sims, fusion, bank.headLogits(embedding, probabilities.length, vector));
      logits = fused.fused;
      probabilities = softmaxInPlace(Float64Array.from(logits));
      gate = fused.gate;
      known = true;
    }
    const excluded = this.excluded;
    if (excluded) {
      // Softmax without the deleted classes = the others' probabilities renormalised.
      let rest = 0;
      for (let i = 0; i < probabilities.length; i++) {
        if (excluded[i]) {
          probabilities[i] = 0;
          logits[i] = -Infinity;
        } else rest += probabilities[i] as number;
      }
      if (rest > 0) for (let i = 0; i < probabilities.length; i++) probabilities[i] = (probabilities[i] as number) / rest;
      else known = false;
    }
    // The gate says how far the question is from everything in the knowledge base: far means out of scope.
    if (gate < 1) for (let i = 0; i < probabilities.length; i++) probabilities[i] = (probabilities[i] as number) * gate;
    return { probabilities, logits, confidence: known ? maxOf(probabilities) : 0, known };
  }

  /**
   * Follow-up scoring: log p(article | question) + w · sim(context, article), over the articles the
   * question itself finds plausible. The question keeps the say on *what* is asked ("fees"); the context
   * picks *which* of those articles by term overlap with it ("card" vs "transfer"). Blending the context
   * into the question's features did worse: its topic words outvoted the follow-up's one content word.
   * Context = the last turn plus, at half weight, the one before.
   */
  private withContext(model: ArticleModel, question: Scored, context: readonly string[]): Scored {
    const w = this.options.contextWeight ?? DEFAULT_CONTEXT_WEIGHT;
    const parts: Array<readonly [SparseVector, number]> = [];
    const last = context[context.length - 1];
    const prev = context[context.length - 2];
    if (last) parts.push([model.vectorise(last), 1]);
    if (prev) parts.push([model.vectorise(prev), 0.5]);
    const ctx = blend(parts);
    if (ctx.ids.length === 0) return question;
    const sims = model.topicSimilarity(ctx);
    const floor = CANDIDATE_FLOOR * question.confidence;
    const logits = new Float64Array(question.probabilities.length);
    for (let i = 0; i < logits.length; i++) {
      const pq = question.probabilities[i] as number;
      logits[i] = pq > 0 && pq >= floor ? Math.log(pq) + w * (sims[i] as number) : -Infinity;
    }
    if (!logits.some((l) => l > -Infinity)) return question;
    const probabilities = softmaxInPlace(Float64Array.from(logits));
    return { probabilities, logits, confidence: maxOf(probabilities), known: true };
  }
}

/** How far below the threshold a capped confidence stays. */
const UNSURE_FACTOR = 0.99;

/** The same ranking with no probability above `cap`. */
function capConfidence(scored: Scored, cap: number): Scored {
  if (scored.confidence <= cap) return scored;
  const scale = cap / scored.confidence;
  const probabilities = scored.probabilities.map((p) => p * scale);
  return { ...scored, probabilities, confidence: cap };
}

/** At most this many words (or twice as many CJK characters) for a question to be read with the previous turn when unsure. */
const SHORT_QUESTION_WORDS = 8;

function isShortQuestion(question: string): boolean {
  const cjk = question.match(/\p{Script=Han}/gu)?.length ?? 0;
  const words = question
    .trim()
    .split(/\s+/)
    .filter((w) => w.length > 0).length;
  return cjk > 0 ? cjk <= 2 * SHORT_QUESTION_WORDS : words <= SHORT_QUESTION_WORDS;
}

/** Positions of the `k` largest values. */
function topIndices(values: Float64Array, k: number): number[] {
  const idx = Array.from(values.keys());
  idx.sort((a, b) => (values[b] as number) - (values[a] as number));
  return idx.slice(0, k);
}

/** The largest probability (0 for none). */
function maxOf(probabilities: Float64Array): number {
  let max = 0;
  for (let i = 0; i < probabilities.length; i++) max = Math.max(max, probabilities[i] as number);
  return max;
}

function topK(scored: Scored, k: number, excluded: Uint8Array | null): number[] {
  let idx = Array.from(scored.probabilities.keys());
  if (excluded) idx = idx.filter((i) => !excluded[i]);
  idx.sort((a, b) => (scored.probabilities[b] as number) - (scored.probabilities[a] as number));
  return idx.slice(0, k);
}
