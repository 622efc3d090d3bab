/** Dot products of the embedding code (bank.ts, head.ts). */
/**
 * `a[offset .. offset + d)` · `b[0 .. d)`, four running sums: the question's scan of its candidates' examples is
 * most of a search's time, and V8 runs independent sums about twice as fast as one sum's chain of adds.
 */
export function dotAt(a: Float32Array, offset: number, b: Float32Array, d: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  for (; j + 3 < d; j += 4) {
    const at = offset + j;
    s0 += (a[at] as number) * (b[j] as number);
    s1 += (a[at + 1] as number) * (b[j + 1] as number);
    s2 += (a[at + 2] as number) * (b[j + 2] as number);
    s3 += (a[at + 3] as number) * (b[j + 3] as number);
  }
  for (; j < d; j++) s0 += (a[offset + j] as number) * (b[j] as number);
  return s0 + s1 + (s2 + s3);
}
