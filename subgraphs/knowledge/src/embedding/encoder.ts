/**
 * Sentence embeddings from a small BERT encoder (int8 ONNX: all-MiniLM-L6-v2 by default, or bge-small-en-v1.5)
 * run with onnxruntime-node on the CPU: WordPiece ids in, pooled (mean or [CLS], as the model was trained)
 * and L2-normalised 384-d vectors out. The model is never downloaded here: it is read from the cache dir
 * that `ops/models/models.sh fetch` fills, and `SentenceEncoder.load()` answers null when it is absent (or
 * BEEDESK_EMBEDDINGS=off), so the engine keeps its word features alone.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { WordPieceTokenizer } from './wordpiece';

/** How a model's token vectors become one sentence vector (what it was trained with). */
export type Pooling = 'mean' | 'cls';

/** The models ops/models/models.sh can fetch (its cache dir name → pooling). */
export const EMBEDDING_MODELS: Readonly<Record<string, { pooling: Pooling }>> = {
  'all-minilm-l6-v2-q': { pooling: 'mean' },
  'bge-small-en-v15-q': { pooling: 'cls' },
};

/** The default model: the one models.sh fetches when BEEDESK_EMBEDDING_MODEL does not name another. */
export const EMBEDDING_MODEL = 'all-minilm-l6-v2-q';

/** The model chosen by BEEDESK_EMBEDDING_MODEL (one of EMBEDDING_MODELS), else EMBEDDING_MODEL. */
export function embeddingModelName(env: NodeJS.ProcessEnv = process.env): string {
  const chosen = env.BEEDESK_EMBEDDING_MODEL;
  if (!chosen) return EMBEDDING_MODEL;
  if (!(chosen in EMBEDDING_MODELS))
    throw new Error(`BEEDESK_EMBEDDING_MODEL=${chosen}: not one of ${Object.keys(EMBEDDING_MODELS).join(', ')}`);
  return chosen;
}

/**
 * Where models.sh puts the model: $BEEDESK_MODEL_DIR, else $BEEDESK_CACHE_DIR (or ~/.cache/beedesk)/models/<name>,
 * <name> being embeddingModelName().
 */
export function defaultModelDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BEEDESK_MODEL_DIR) return env.BEEDESK_MODEL_DIR;
  return join(env.BEEDESK_CACHE_DIR ?? join(homedir(), '.cache', 'beedesk'), 'models', embeddingModelName(env));
}

/**
 * The model in `dir`: its name and pooling from the model.json models.sh writes beside it; a dir without one
 * (fetched by an older models.sh) is named after itself, and pools by the mean when its name is not known.
 */
export function modelInfo(dir: string): { name: string; pooling: Pooling } {
  const file = join(dir, 'model.json');
  let name = basename(dir);
  let pooling: Pooling | undefined = EMBEDDING_MODELS[name]?.pooling;
  if (existsSync(file)) {
    const json = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; pooling?: unknown };
    if (typeof json.name === 'string') name = json.name;
    if (json.pooling === 'mean' || json.pooling === 'cls') pooling = json.pooling;
  }
  return { name, pooling: pooling ?? 'mean' };
}

export function modelPresent(dir: string = defaultModelDir()): boolean {
  return existsSync(join(dir, 'model.onnx')) && existsSync(join(dir, 'tokenizer.json'));
}

export interface EncoderOptions {
  /** Texts per model run (padded to the longest in the batch). */
  batchSize?: number;
  /** Token limit per text (questions are short; long article bodies are cut). */
  maxTokens?: number;
  /** Embeddings remembered by text (LRU), so a rebuild or a repeated question is not re-encoded. */
  cacheEntries?: number;
}

type Ort = typeof import('onnxruntime-node');

const UNSPACED_SCRIPT = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}]/u;

export class SentenceEncoder {
  readonly dimension: number;
  /** The model's name (cache dir name, e.g. all-minilm-l6-v2-q): embeddings of different models never mix. */
  readonly name: string;
  private readonly pooling: Pooling;
  private readonly cache = new Map<string, Float32Array>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly ort: Ort,
    private readonly session: InferenceSession,
    private readonly tokenizer: WordPieceTokenizer,
    private readonly options: Required<EncoderOptions>,
    dimension: number,
    info: { name: string; pooling: Pooling },
  ) {
    this.dimension = dimension;
    this.name = info.name;
    this.pooling = info.pooling;
  }

  /** The encoder over the cached model, or null when the model (or onnxruntime-node) is not available. */
  static async load(dir: string = defaultModelDir(), options: EncoderOptions = {}): Promise<SentenceEncoder | null> {
    if (process.env.BEEDESK_EMBEDDINGS === 'off' || !modelPresent(dir)) return null;
    let ort: Ort;
    try {
      // Loaded lazily (a native addon): only processes that have the model pay for it.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      ort = require('onnxruntime-node') as Ort;
    } catch {
      return null;
    }
    const session = await ort.InferenceSession.create(join(dir, 'model.onnx'), {
      // One thread: questions are short, and the machine's cores serve many tenants at once.
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    const tokenizer = WordPieceTokenizer.fromFile(join(dir, 'tokenizer.json'));
    const encoder = new SentenceEncoder(
      ort,
      session,
      tokenizer,
      { batchSize: options.batchSize ?? 32, maxTokens: options.maxTokens ?? 64, cacheEntries: options.cacheEntries ?? 20_000 },
      0,
      modelInfo(dir),
    );
    const [probe] = await encoder.embed(['dimension probe']);
    (encoder as { dimension: number }).dimension = probe?.length ?? 0;
    encoder.cache.clear();
    return encoder;
  }

  /**
   * Whether the model can embed `text` usefully: all-MiniLM-L6-v2 learned English, and Chinese (or another
   * unspaced script) comes out as near-noise (measured: top-1 on the Chinese FAQ fell from 92% to 69% fused).
   */
  covers(text: string): boolean {
    return !UNSPACED_SCRIPT.test(text);
  }

  /** Puts known embeddings in the in-memory cache (e.g. from an evaluation's disk cache). */
  seed(entries: Iterable<readonly [string, Float32Array]>): void {
    for (const [text, vector] of entries) if (vector.length === this.dimension) this.remember(text, vector);
  }

  /** Unit-length embeddings of `texts`, in order. Runs are serialised (one model session). */
  embed(texts: readonly string[]): Promise<Float32Array[]> {
    const run = this.queue.then(() => this.embedNow(texts));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Embeddings computed afresh, bypassing (and not filling) the cache: for measuring the model's cost. */
  embedUncached(texts: readonly string[]): Promise<Float32Array[]> {
    const run = this.queue.then(async () => {
      const out: Float32Array[] = [];
      for (let start = 0; start < texts.length; start += this.options.batchSize)
        out.push(...(await this.run(texts.slice(start, start + this.options.batchSize))));
      return out;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async embedNow(texts: readonly string[]): Promise<Float32Array[]> {
    const out = new Array<Float32Array | undefined>(texts.length);
    const missing: number[] = [];
    texts.forEach((t, i) => {
      const hit = this.cache.get(t);
      if (hit) {
        this.cache.delete(t);
        this.cache.set(t, hit);
        out[i] = hit;
      } else missing.push(i);
    });
    // Similar lengths per batch: less padding to compute.
    missing.sort((a, b) => (texts[a] as string).length - (texts[b] as string).length);
    for (let start = 0; start < missing.length; start += this.options.batchSize) {
      const batch = missing.slice(start, start + this.options.batchSize);
      const vectors = await this.run(batch.map((i) => texts[i] as string));
      batch.forEach((i, k) => {
        const v = vectors[k] as Float32Array;
        out[i] = v;
        this.remember(texts[i] as string, v);
      });
    }
    return out as Float32Array[];
  }

  private remember(text: string, vector: Float32Array): void {
    this.cache.set(text, vector);
    while (this.cache.size > this.options.cacheEntries) this.cache.delete(this.cache.keys().next().value as string);
  }

  private async run(texts: readonly string[]): Promise<Float32Array[]> {
    const encoded = texts.map((t) => this.tokenizer.encode(t, this.options.maxTokens).ids);
    let width = 0;
    for (const seq of encoded) width = Math.max(width, seq.length);
    const n = texts.length;
    const ids = new BigInt64Array(n * width);
    const mask = new BigInt64Array(n * width);
    for (let r = 0; r < n; r++) {
      const seq = encoded[r] as number[];
      for (let c = 0; c < seq.length; c++) {
        ids[r * width + c] = BigInt(seq[c] as number);
        mask[r * width + c] = 1n;
      }
    }
    const { Tensor: TensorCtor } = this.ort;
    const feeds: Record<string, Tensor> = {
      input_ids: new TensorCtor('int64', ids, [n, width]),
      attention_mask: new TensorCtor('int64', mask, [n, width]),
      token_type_ids: new TensorCtor('int64', new BigInt64Array(n * width), [n, width]),
    };
    const result = await this.session.run(feeds);
    const hidden = result[this.session.outputNames[0] as string] as Tensor;
    const data = hidden.data as Float32Array;
    const dim = hidden.dims[2] as number;
    const vectors: Float32Array[] = [];
    for (let r = 0; r < n; r++) {
      // Mean over the real tokens (all-MiniLM-L6-v2) or the [CLS] token's vector (bge), then unit length:
      // sentence-transformers' pooling for each model.
      const v = new Float32Array(dim);
      const len = this.pooling === 'cls' ? 1 : (encoded[r] as number[]).length;
      for (let t = 0; t < len; t++) {
        const base = (r * width + t) * dim;
        for (let d = 0; d < dim; d++) v[d] = (v[d] as number) + (data[base + d] as number);
      }
      let norm = 0;
      for (let d = 0; d < dim; d++) norm += (v[d] as number) ** 2;
      norm = Math.sqrt(norm) || 1;
      for (let d = 0; d < dim; d++) v[d] = (v[d] as number) / norm;
      vectors.push(v);
    }
    for (const output of Object.values(result)) output.dispose();
    return vectors;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
