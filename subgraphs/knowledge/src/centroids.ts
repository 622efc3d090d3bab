/**
 * Per-article centroids of the training vectors (Rocchio), stored as an inverted index. Used to tell how
 * much a context turn is *about* each article by plain term overlap ("card" → the card articles), which a
 * discriminative classifier does not encode: its probabilities below the top class are noise.
 */
import { sharedFloat32, sharedInt32 } from './classifier';
import type { SparseVector } from './features';

export interface CentroidsState {
  classes: number;
  start: Int32Array;
  cls: Int32Array;
  weight: Float32Array;
}

export class Centroids {
  private readonly classes: number;
  private readonly start: Int32Array;
  private readonly cls: Int32Array;
  private readonly weight: Float32Array;

  private constructor(state: CentroidsState) {
    this.classes = state.classes;
    this.start = state.start;
    this.cls = state.cls;
    this.weight = state.weight;
  }

  static fromState(state: CentroidsState): Centroids {
    return new Centroids(state);
  }

  toState(): CentroidsState {
    return { classes: this.classes, start: this.start, cls: this.cls, weight: this.weight };
  }

  static fit(vectors: readonly SparseVector[], labels: ArrayLike<number>, classes: number, dimension: number): Centroids {
    const sums = unitCentroids(vectors, labels, classes);
    const counts = sharedInt32(dimension + 1);
    for (const m of sums) for (const id of m.keys()) counts[id + 1] = (counts[id + 1] as number) + 1;
    for (let f = 0; f < dimension; f++) counts[f + 1] = (counts[f + 1] as number) + (counts[f] as number);
    const cls = sharedInt32(counts[dimension] as number);
    const weight = sharedFloat32(counts[dimension] as number);
    const fill = counts.slice(0, dimension);
    sums.forEach((m, c) => {
      for (const [id, w] of m) {
        const at = fill[id] as number;
        fill[id] = at + 1;
        cls[at] = c;
        weight[at] = w;
      }
    });
    return new Centroids({ classes, start: counts, cls, weight });
  }

  /** Cosine similarity of the query to each article's centroid. */
  similarity(query: SparseVector): Float64Array {
    const out = new Float64Array(this.classes);
    const norm = vectorNorm(query);
    if (norm === 0) return out;
    const dimension = this.start.length - 1;
    for (let t = 0; t < query.ids.length; t++) {
      const id = query.ids[t] as number;
      if (id >= dimension) continue;
      const q = (query.values[t] as number) / norm;
      const end = this.start[id + 1] as number;
      for (let p = this.start[id] as number; p < end; p++) {
        const c = this.cls[p] as number;
        out[c] = (out[c] as number) + q * (this.weight[p] as number);
      }
    }
    return out;
  }

  get byteSize(): number {
    return this.start.byteLength + this.cls.byteLength + this.weight.byteLength;
  }
}

/** Per class, the unit-length sum of its unit-length training vectors, by feature id. */
export function unitCentroids(vectors: readonly SparseVector[], labels: ArrayLike<number>, classes: number): Array<Map<number, number>> {
  const sums = Array.from({ length: classes }, () => new Map<number, number>());
  vectors.forEach((v, doc) => {
    const norm = vectorNorm(v);
    if (norm === 0) return;
    const sum = sums[labels[doc] as number] as Map<number, number>;
    for (let t = 0; t < v.ids.length; t++) {
      const id = v.ids[t] as number;
      sum.set(id, (sum.get(id) ?? 0) + (v.values[t] as number) / norm);
    }
  });
  for (const sum of sums) {
    const norm = Math.sqrt([...sum.values()].reduce((a, x) => a + x * x, 0)) || 1;
    for (const [id, w] of sum) sum.set(id, w / norm);
  }
  return sums;
}

export function vectorNorm(v: SparseVector): number {
  let s = 0;
  for (let i = 0; i < v.values.length; i++) s += (v.values[i] as number) ** 2;
  return Math.sqrt(s);
}
