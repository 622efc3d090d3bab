import { buildSchema } from 'graphql';
import { DocumentCache, retainedBytes } from './document-cache';

const schema = buildSchema('type Query { a: Int b: String }');

describe('DocumentCache', () => {
  it('caches documents that validate, keyed by the hash of their text', () => {
    const cache = new DocumentCache(schema, 1_000_000);
    const first = cache.prepare('{ a }');
    const again = cache.prepare('{ a }');
    expect(first.ok && again.ok && again.prepared.document === first.prepared.document).toBe(true);
    expect(first.ok && first.prepared.queryHash).toMatch(/^[0-9a-f]{64}$/);
    expect(cache.size).toBe(1);
  });

  it('caches no failure', () => {
    const cache = new DocumentCache(schema, 1_000_000);
    for (let i = 0; i < 50; i++) {
      expect(cache.prepare(`{ a ${i}`).ok).toBe(false);
      expect(cache.prepare(`{ c${i} }`).ok).toBe(false);
    }
    expect(cache.size).toBe(0);
    expect(cache.bytes).toBe(0);
  });

  it('stays within its bytes, dropping the least recently used; comments count', () => {
    const budget = 200_000;
    const cache = new DocumentCache(schema, budget);
    const doc = (i: number) => `query Q${i} { a } #${'x'.repeat(10_000)}`;
    for (let i = 0; i < 40; i++) cache.prepare(doc(i));
    expect(cache.bytes).toBeLessThanOrEqual(budget);
    expect(cache.size).toBeGreaterThan(0);
    expect(cache.size).toBeLessThan(40);
    const first = cache.prepare(doc(0));
    expect(first.ok && retainedBytes(doc(0), first.prepared.document)).toBeGreaterThan(20_000);
  });

  it('does not keep a document larger than a quarter of the budget, nor anything with a budget of 0', () => {
    const cache = new DocumentCache(schema, 50_000);
    expect(cache.prepare(`{ a } #${'x'.repeat(20_000)}`).ok).toBe(true);
    expect(cache.size).toBe(0);
    const off = new DocumentCache(schema, 0);
    expect(off.prepare('{ a }').ok).toBe(true);
    expect(off.size).toBe(0);
  });
});
