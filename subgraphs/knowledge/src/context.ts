/**
 * Follow-up detection: decides whether a question leans on the conversation ("and how long does that
 * take?", "what about fees?", "那退款呢？") rather than standing alone.
 */
import { normalise, segmentWords } from './text';

// Openers that continue the previous turn.
const FOLLOW_UP_OPENERS =
  /^(and|also|then|so|but|plus|what about|how about|what if|same for|and if|et|und|y|那|那么|还有|另外|然后|那如果|如果是)/;
// Words that point back to something said before.
const ANAPHORA = new Set(['that', 'it', 'this', 'those', 'these', 'them', 'they', 'same', 'either']);
const CJK_ANAPHORA = /(这个|那个|这样|那样|它|这种|那种|上面|刚才)/;
const CJK_TRAILING_NE = /呢[?？!！。.]*$/;

/** At most this many words for a question to count as elliptical on the strength of a pronoun alone. */
const SHORT_QUESTION_WORDS = 7;
const SHORT_QUESTION_CJK_CHARS = 10;

export function isFollowUp(question: string): boolean {
  const norm = normalise(question).trim();
  if (!norm) return false;
  const words = segmentWords(norm);
  if (words.length === 0) return false;
  if (FOLLOW_UP_OPENERS.test(norm) && words.length <= SHORT_QUESTION_WORDS + 2) return true;
  if (CJK_TRAILING_NE.test(norm) && Array.from(norm).length <= SHORT_QUESTION_CJK_CHARS) return true;
  if (CJK_ANAPHORA.test(norm) && Array.from(norm).length <= SHORT_QUESTION_CJK_CHARS) return true;
  return words.length <= SHORT_QUESTION_WORDS && words.some((w) => ANAPHORA.has(w));
}
