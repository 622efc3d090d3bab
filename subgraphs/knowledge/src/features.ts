/**
 * Turns text into named sparse features, grouped in blocks that are weighted separately:
 * - words: stemmed unigrams and adjacent bigrams (word order that carries meaning: "top up" vs "up top"),
 * - pairs: unordered co-occurring content words within a short window ("card ... arrive" however phrased),
 * - chars: character 3-5-grams inside each word (spelling variants, typos, unseen inflections) and, for
 *   dense scripts such as Chinese, character uni/bi-grams across the run (robust to segmentation errors).
 */
import { sharedFloat32 } from './classifier';
import { denseRuns, isDenseScript, normalise, segmentWords, stem } from './text';

export const BLOCKS = ['words', 'pairs', 'chars'] as const;
export type Block = (typeof BLOCKS)[number];
export const BLOCK_COUNT = BLOCKS.length;

/** Feature name -> raw count, per block. */
export type RawFeatures = [Map<string, number>, Map<string, number>, Map<string, number>];

// Function words carry little topical signal on their own; they are kept in bigrams (phrasing matters)
// but left out of co-occurrence pairs, which would otherwise be dominated by them.
const STOP = new Set(
  (
    'a an the i me my mine we our you your it its is am are was were be been being do does did to of for in on at ' +
    'by with from and or but if so this that these those there here can could would should will shall may might ' +
    'have has had not no please just what how why when where which who whom im ive id dont doesnt didnt cant ' +
    '的 了 吗 呢 吧 啊 呀 我 你 您 们 是 在 有 和 就 都 也 还 这 那 个 么'
  ).split(' '),
);

const PAIR_WINDOW = 4;
const CJK_SKIP = 2;

function add(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

export function extractFeatures(text: string): RawFeatures {
  const words = new Map<string, number>();
  const pairs = new Map<string, number>();
  const chars = new Map<string, number>();
  const norm = normalise(text);
  const surfaces = segmentWords(norm);
  const terms = surfaces.map(stem);

  for (let i = 0; i < terms.length; i++) {
    const t = terms[i] as string;
    add(words, t);
    if (i + 1 < terms.length) add(words, `${t} ${terms[i + 1] as string}`);
  }

  const content = terms.filter((t) => !STOP.has(t));
  for (let i = 0; i < content.length; i++) {
    const a = content[i] as string;
    for (let j = i + 1; j < content.length && j <= i + PAIR_WINDOW; j++) {
      const b = content[j] as string;
      if (a !== b) add(pairs, a < b ? `${a}|${b}` : `${b}|${a}`);
    }
  }

  for (const surface of surfaces) {
    if (isDenseScript(surface)) continue; // covered by the dense-run n-grams below
    const padded = ` ${surface} `;
    for (let n = 3; n <= 5; n++) {
      for (let i = 0; i + n <= padded.length; i++) add(chars, padded.slice(i, i + n));
    }
  }
  for (const run of denseRuns(norm)) {
    const chs = Array.from(run);
    for (let i = 0; i < chs.length; i++) {
      if (!STOP.has(chs[i] as string)) add(chars, chs[i] as string);
      if (i + 1 < chs.length) add(chars, (chs[i] as string) + (chs[i + 1] as string));
      // Skip-bigrams ("付完款" still shares 付_款 with "付款"): Chinese paraphrases often insert a character.
      for (let j = i + 2; j < chs.length && j <= i + 1 + CJK_SKIP; j++) {
        if (!STOP.has(chs[i] as string) && !STOP.has(chs[j] as string)) add(pairs, `${chs[i] as string}_${chs[j] as string}`);
      }
    }
  }
  return [words, pairs, chars];
}

/** A sparse vector: parallel arrays of feature ids (ascending not required) and values. */
export interface SparseVector {
  ids: Int32Array;
  values: Float32Array;
}

export const EMPTY_VECTOR: SparseVector = { ids: new Int32Array(0), values: new Float32Array(0) };

export interface VectoriserOptions {
  /** Relative weight of each block after per-block L2 normalisation. */
  blockWeights?: readonly number[];
  /** Features seen in fewer training texts are dropped (per block), to keep the model small. */
  minDf?: readonly number[];
}

const DEFAULT_BLOCK_WEIGHTS = [1, 1, 1];
const DEFAULT_MIN_DF = [1, 1, 2];

/** A fitted vectoriser as plain data (feature names per block in id order), to cross threads. */
export interface VectoriserState {
  keys: string[][];
  idf: Float32Array;
  blockWeights: readonly number[];
  minDf: readonly number[];
  /** Training texts the idf was computed over. */
  docs: number;
}

/**
 * TF-IDF vectoriser with a vocabulary fixed at fit time: sublinear tf (1 + ln tf), smoothed idf,
 * each block L2-normalised then weighted, as in a concatenation of separate TF-IDF vectorisers.
 */
export class Vectoriser {
  private vocab: Array<Map<string, number>> = [];
  /** For an extension (see extend()): the features it adds, per block, looked up after `vocab` (the parent's, shared). */
  private added: Array<Map<string, number>> | null = null;
  private idf: Float32Array = new Float32Array(0);
  private docs = 0;
  private readonly blockWeights: readonly number[];
  private readonly minDf: readonly number[];

  constructor(options: VectoriserOptions = {}) {
    this.blockWeights = options.blockWeights ?? DEFAULT_BLOCK_WEIGHTS;
    this.minDf = options.minDf ?? DEFAULT_MIN_DF;
  }

  get dimension(): number {
    return this.idf.length;
  }

  /** Ids are assigned block by block in insertion order, so each block's keys in order are its ids. */
  toState(): VectoriserState {
    if (this.added) throw new Error('an extended vectoriser stays on its thread');
    return {
      keys: this.vocab.map((m) => [...m.keys()]),
      idf: this.idf,
      blockWeights: this.blockWeights,
      minDf: this.minDf,
      docs: this.docs,
    };
  }

  static fromState(state: VectoriserState): Vectoriser {
    const v = new Vectoriser({ blockWeights: state.blockWeights, minDf: state.minDf });
    let id = 0;
    for (const keys of state.keys) {
      const ids = new Map<string, number>();
      for (const key of keys) ids.set(key, id++);
      v.vocab.push(ids);
    }
    v.idf = state.idf;
    v.docs = state.docs;
    return v;
  }

  /**
   * This vocabulary plus the features of `docs` (new training texts) that it lacks, as new ids from
   * `dimension` on, without copying it (the maps are shared). Known features keep their ids and idf, so
   * vectors of the extension are this one's vectors plus the new columns; a new feature's idf counts its
   * document frequency in `docs` over all training texts, old and new (its minDf applies within `docs`).
   */
  extend(docs: readonly RawFeatures[]): Vectoriser {
    if (this.added) throw new Error('extend the fitted vectoriser, not an extension');
    const added: Array<Map<string, number>> = [];
    const idf: number[] = [];
    const n = this.docs + docs.length;
    let next = this.dimension;
    for (let b = 0; b < BLOCK_COUNT; b++) {
      const known = this.vocab[b] ?? new Map<string, number>();
      const counts = new Map<string, number>();
      for (const doc of docs) for (const key of (doc[b] as Map<string, number>).keys()) if (!known.has(key)) add(counts, key);
      const ids = new Map<string, number>();
      const min = this.minDf[b] ?? 1;
      for (const [key, count] of counts) {
        if (count < min) continue;
        ids.set(key, next++);
        idf.push(Math.log((1 + n) / (1 + count)) + 1);
      }
      added.push(ids);
    }
    const extended = new Vectoriser({ blockWeights: this.blockWeights, minDf: this.minDf });
    extended.vocab = this.vocab;
    extended.added = added;
    extended.idf = new Float32Array(next);
    extended.idf.set(this.idf);
    extended.idf.set(idf, this.dimension);
    extended.docs = n;
    return extended;
  }

  /** Id of a feature by block and name (for warm starts), or undefined. */
  idOf(block: number, key: string): number | undefined {
    return this.vocab[block]?.get(key) ?? this.added?.[block]?.get(key);
  }

  /** Calls fn(block, key, id) for every feature. */
  forEachFeature(fn: (block: number, key: string, id: number) => void): void {
    this.vocab.forEach((m, b) => m.forEach((id, key) => fn(b, key, id)));
  }

  /** Build the vocabulary and idf from training texts' raw features, and return their vectors. */
  fit(docs: readonly RawFeatures[]): SparseVector[] {
    const df: Array<Map<string, number>> = [];
    for (let b = 0; b < BLOCK_COUNT; b++) {
      const counts = new Map<string, number>();
      for (const doc of docs) for (const key of (doc[b] as Map<string, number>).keys()) add(counts, key);
      df.push(counts);
    }
    this.vocab = [];
    this.added = null;
    const idf: number[] = [];
    const n = docs.length;
    for (let b = 0; b < BLOCK_COUNT; b++) {
      const ids = new Map<string, number>();
      const min = this.minDf[b] ?? 1;
      for (const [key, count] of df[b] as Map<string, number>) {
        if (count < min) continue;
        ids.set(key, idf.length);
        idf.push(Math.log((1 + n) / (1 + count)) + 1);
      }
      this.vocab.push(ids);
    }
    this.idf = sharedFloat32(idf.length);
    this.idf.set(idf);
    this.docs = n;
    return docs.map((d) => this.transform(d));
  }

  transform(raw: RawFeatures): SparseVector {
    const ids: number[] = [];
    const values: number[] = [];
    for (let b = 0; b < BLOCK_COUNT; b++) {
      const vocab = this.vocab[b];
      if (!vocab) continue;
      const added = this.added?.[b];
      const start = ids.length;
      let sumSq = 0;
      for (const [key, tf] of raw[b] as Map<string, number>) {
        const id = vocab.get(key) ?? added?.get(key);
        if (id === undefined) continue;
        const v = (1 + Math.log(tf)) * (this.idf[id] as number);
        ids.push(id);
        values.push(v);
        sumSq += v * v;
      }
      if (sumSq > 0) {
        const scale = (this.blockWeights[b] ?? 1) / Math.sqrt(sumSq);
        for (let i = start; i < values.length; i++) values[i] = (values[i] as number) * scale;
      }
    }
    return { ids: Int32Array.from(ids), values: Float32Array.from(values) };
  }
}

/** Weighted sum of sparse vectors (ids merged), e.g. a follow-up question blended with its context. */
export function blend(parts: ReadonlyArray<readonly [SparseVector, number]>): SparseVector {
  const acc = new Map<number, number>();
  for (const [vec, w] of parts) {
    for (let i = 0; i < vec.ids.length; i++) {
      const id = vec.ids[i] as number;
      acc.set(id, (acc.get(id) ?? 0) + w * (vec.values[i] as number));
    }
  }
  return { ids: Int32Array.from(acc.keys()), values: Float32Array.from(acc.values()) };
}
