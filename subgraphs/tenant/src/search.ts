import { badInput, forbidden, isStaff } from '@beedesk/runtime';
import type { ArticleRecord } from './data';

export const SEARCH_MAX_RESULTS = 200;

export interface ArticleSearch {
  text?: string | null;
  locale?: string | null;
  first?: number | null;
}

/** Lower-cased words of a search text; CJK text has no spaces, so each run of it is one "word" matched as a substring. */
const wordsOf = (text: string): string[] => text.toLowerCase().split(/\s+/).filter(Boolean);

/**
 * The staff console's knowledge-base search: every word of the text must occur in the article's id,
 * title, body or example questions. A linear scan over the tenant's articles (at most KB_MAX_ARTICLES,
 * 2,000 by default), which is what an editor's search box needs; ranking questions is the engine's job.
 */
export function searchArticles(articles: readonly ArticleRecord[], search: ArticleSearch): ArticleRecord[] {
  const first = search.first ?? 50;
  if (!Number.isInteger(first) || first < 1 || first > SEARCH_MAX_RESULTS) throw badInput(`first: 1 to ${SEARCH_MAX_RESULTS}`, 'first');
  const text = search.text ?? '';
  if (text.length > 500) throw badInput('text: at most 500 characters', 'text');
  const words = wordsOf(text);
  const locale = search.locale?.trim() || null;
  return articles
    .filter((article) => locale === null || article.locale.toLowerCase() === locale.toLowerCase())
    .filter((article) => {
      if (words.length === 0) return true;
      const haystack = [article.id, article.title, article.body, ...article.questions].join('\n').toLowerCase();
      return words.every((word) => haystack.includes(word));
    })
    .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || a.id.localeCompare(b.id))
    .slice(0, first);
}

/** FORBIDDEN for customers: the console's operations are for the tenant's staff only. */
export function requireStaff(caller: Parameters<typeof isStaff>[0], what: string): void {
  if (!isStaff(caller)) throw forbidden(`Only agents and admins of this tenant may ${what}.`);
}
