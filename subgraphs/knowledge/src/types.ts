/** Public data types of the knowledge-base engine (re-exported from index.ts). */

export interface KnowledgeArticle {
  id: string;
  title: string;
  body: string;
  /** Example customer questions this article answers; the main training signal. */
  questions: string[];
  locale: string;
}

export interface RankedArticle {
  article: KnowledgeArticle;
  /** Raw model score (logit); only comparable within one search. */
  score: number;
  /** Calibrated probability in [0, 1] that this article is the right one. */
  confidence: number;
}

export interface SearchOptions {
  /** The session's recent turns, oldest first; used to resolve elliptical follow-ups. */
  context?: string[];
  /** How many ranked articles to return (default 3). */
  limit?: number;
  /** Confidence needed to answer (default DEFAULT_CONFIDENCE_THRESHOLD). */
  threshold?: number;
}

export interface SearchResult {
  /** True when `best` clears the threshold and can be given as the answer. */
  confident: boolean;
  /** The top article (even when not confident, as a suggestion); null for an empty index or no signal. */
  best: RankedArticle | null;
  ranked: RankedArticle[];
  /** True when the session context changed the query that was ranked. */
  usedContext: boolean;
}
