import type { ArticleRecord } from './data';
import { searchArticles } from './search';

const article = (id: string, title: string, updatedAt: string, extra: Partial<ArticleRecord> = {}): ArticleRecord => ({
  id,
  title,
  body: `${title} body`,
  questions: [],
  locale: 'en',
  updatedAt,
  ...extra,
});

const ARTICLES = [
  article('card-lost', 'Lost card', '2026-01-01T00:00:00.000Z', { questions: ['I lost my card'] }),
  article('pin-reset', 'Reset your PIN', '2026-01-03T00:00:00.000Z'),
  article('refund', '退款', '2026-01-02T00:00:00.000Z', { locale: 'zh-CN', body: '七天内可以退款' }),
];

describe('searchArticles', () => {
  it('lists everything newest first without a text', () => {
    expect(searchArticles(ARTICLES, {}).map((a) => a.id)).toEqual(['pin-reset', 'refund', 'card-lost']);
  });
  it('needs every word, in any field, case-insensitively', () => {
    expect(searchArticles(ARTICLES, { text: 'LOST my' }).map((a) => a.id)).toEqual(['card-lost']);
    expect(searchArticles(ARTICLES, { text: 'lost pin' })).toEqual([]);
    expect(searchArticles(ARTICLES, { text: '退款' }).map((a) => a.id)).toEqual(['refund']);
  });
  it('filters by locale and bounds the result', () => {
    expect(searchArticles(ARTICLES, { locale: 'zh-cn' }).map((a) => a.id)).toEqual(['refund']);
    expect(searchArticles(ARTICLES, { first: 1 }).map((a) => a.id)).toEqual(['pin-reset']);
    expect(() => searchArticles(ARTICLES, { first: 0 })).toThrow(/first/);
    expect(() => searchArticles(ARTICLES, { first: 1000 })).toThrow(/first/);
  });
});
