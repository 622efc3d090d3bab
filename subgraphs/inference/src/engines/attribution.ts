/**
 * Which of the prompt's articles an LLM answer used, read from the answer itself. The prompt numbers the
 * articles [1], [2], … and asks the model to cite the one it answers from; the claimed sources are:
 *   1. the articles cited by number, else
 *   2. the articles whose title the answer names, else
 *   3. the one article most of the answer's words come from (at least MIN_OVERLAP of its words, and clearly
 *      ahead of the next), else
 *   4. none: an answer that uses no article ("I cannot help with that, shall I get a person?") claims nothing.
 * Retrieval confidence alone is not evidence of use: a follow-up's second-ranked article can clear any
 * floor while the model answers from the first (issue 17: "What should I do now?" after a declined card
 * payment claimed "I lost my phone").
 */
import { normalise, segmentWords } from '@beedesk/knowledge';

export interface PromptArticle {
  id: string;
  title: string;
  body: string;
}

/** Share of the answer's distinct words that must occur in an article's text for rule 3. */
const MIN_OVERLAP = 0.5;
/** How far ahead of the second-best article (in overlap) the best must be for rule 3. */
const MIN_MARGIN = 0.15;

const CITATION = /\[(\d{1,2})\]/g;

export function usedSources(answer: string, articles: readonly PromptArticle[]): string[] {
  const cited = new Set<number>();
  for (const m of answer.matchAll(CITATION)) {
    const n = Number(m[1]);
    if (n >= 1 && n <= articles.length) cited.add(n - 1);
  }
  if (cited.size > 0) return [...cited].sort((a, b) => a - b).map((i) => (articles[i] as PromptArticle).id);

  const text = normalise(answer);
  const named = articles.filter((a) => {
    const title = normalise(a.title).trim();
    return title.length >= 2 && text.includes(title);
  });
  if (named.length > 0) return named.map((a) => a.id);

  const words = contentWords(text);
  if (words.size === 0) return [];
  const overlaps = articles.map((a) => {
    const own = contentWords(normalise(`${a.title} ${a.body}`));
    let shared = 0;
    for (const w of words) if (own.has(w)) shared++;
    return shared / words.size;
  });
  let best = -1;
  for (let i = 0; i < overlaps.length; i++) if (best < 0 || (overlaps[i] as number) > (overlaps[best] as number)) best = i;
  if (best < 0) return [];
  const top = overlaps[best] as number;
  const second = Math.max(0, ...overlaps.filter((_, i) => i !== best));
  return top >= MIN_OVERLAP && top - second >= MIN_MARGIN ? [(articles[best] as PromptArticle).id] : [];
}

/**
 * Distinct words that say something: Latin-script words of four letters or more (so "the", "you", "can"
 * shared with every article do not count as overlap), and every word of an unspaced script (Chinese).
 */
function contentWords(normalised: string): Set<string> {
  return new Set(segmentWords(normalised).filter((w) => w.length >= 4 || !/^[\p{Script=Latin}\p{N}]+$/u.test(w)));
}
