/**
 * Text handling shared by indexing and querying: Unicode normalisation, word segmentation
 * (Intl.Segmenter, so Chinese/Japanese/Thai get dictionary-based word breaks without native
 * builds) and a small Porter stemmer for Latin-script words.
 */

/** NFKC folds full-width forms and compatibility characters (common in CJK input); lower-casing is the case fold. */
export function normalise(text: string): string {
  return (
    text
      .normalize('NFKC')
      .toLowerCase()
      // Apostrophes inside words ("don't", "i’m") are dropped so contractions become one stable token.
      .replace(/['’`]/g, '')
  );
}

// Han, Hiragana, Katakana, Hangul, Thai/Lao/Khmer/Myanmar: scripts where single characters carry meaning
// and where a segmenter's word boundaries are uncertain, so we also index character n-grams across the run.
const DENSE_SCRIPT =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;
const DENSE_RUN =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]+/gu;
const LATIN_WORD = /^[a-z]+$/;
const SIMPLE_WORD = /[\p{L}\p{N}\p{M}]+/gu;

export function isDenseScript(token: string): boolean {
  return DENSE_SCRIPT.test(token);
}

// Segmenters are immutable and locale-independent for our purposes (ICU picks the dictionary by script),
// so one shared instance is safe across tenants and avoids re-creating it per call.
let segmenter: Intl.Segmenter | undefined;
function wordSegmenter(): Intl.Segmenter {
  segmenter ??= new Intl.Segmenter(undefined, { granularity: 'word' });
  return segmenter;
}

/** Word tokens of already-normalised text (punctuation, spaces and emoji dropped). */
export function segmentWords(normalised: string): string[] {
  // Space-delimited scripts split correctly on letter/digit runs, several times faster than ICU; the
  // segmenter's dictionary is only needed where words are not separated by spaces.
  if (!DENSE_SCRIPT.test(normalised)) return normalised.match(SIMPLE_WORD) ?? [];
  const words: string[] = [];
  for (const seg of wordSegmenter().segment(normalised)) {
    if (seg.isWordLike) words.push(seg.segment);
  }
  return words;
}

/** Runs of dense-script characters (e.g. "银行卡还没到"), for character n-grams that do not depend on segmentation. */
export function denseRuns(normalised: string): string[] {
  return normalised.match(DENSE_RUN) ?? [];
}

/** Stem a Latin-script word; anything else (digits, CJK, accented words) is returned unchanged. */
export function stem(word: string): string {
  if (word.length <= 2 || !LATIN_WORD.test(word)) return word;
  let stemmed = stemCache.get(word);
  if (stemmed === undefined) {
    if (stemCache.size >= STEM_CACHE_LIMIT) stemCache.clear();
    stemmed = porter(word);
    stemCache.set(word, stemmed);
  }
  return stemmed;
}

// Memo of a pure function (same output for every tenant), bounded so it cannot grow without limit;
// vocabularies repeat heavily, so this halves tokenising time.
const STEM_CACHE_LIMIT = 50_000;
const stemCache = new Map<string, string>();

export interface Token {
  /** Normalised surface form, used for character n-grams. */
  surface: string;
  /** Stemmed form, used for word features. */
  term: string;
}

/** Normalise, segment and stem in one pass. */
export function tokenise(text: string): Token[] {
  return segmentWords(normalise(text)).map((surface) => ({ surface, term: stem(surface) }));
}

// ---------------------------------------------------------------------------------------------
// Porter (1980) stemmer, compact form. Stemming merges "arrived/arrival/arriving", which matters
// because paraphrases of the same help question mostly differ in inflection.

function isConsonant(w: string, i: number): boolean {
  const ch = w.charCodeAt(i);
  // a e i o u
  if (ch === 97 || ch === 101 || ch === 105 || ch === 111 || ch === 117) return false;
  if (ch === 121) return i === 0 ? true : !isConsonant(w, i - 1); // 'y'
  return true;
}

/** Porter's m: the number of vowel-consonant sequences in the stem. */
function measure(s: string): number {
  let m = 0;
  let i = 0;
  const n = s.length;
  while (i < n && isConsonant(s, i)) i++;
  while (i < n) {
    while (i < n && !isConsonant(s, i)) i++;
    if (i >= n) break;
    while (i < n && isConsonant(s, i)) i++;
    m++;
  }
  return m;
}

function hasVowel(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!isConsonant(s, i)) return true;
  return false;
}

function endsDoubleConsonant(s: string): boolean {
  const n = s.length;
  return n >= 2 && s[n - 1] === s[n - 2] && isConsonant(s, n - 1);
}

/** cvc where the last c is not w, x or y. */
function endsCvc(s: string): boolean {
  const n = s.length;
  if (n < 3) return false;
  if (!isConsonant(s, n - 1) || isConsonant(s, n - 2) || !isConsonant(s, n - 3)) return false;
  const last = s[n - 1];
  return last !== 'w' && last !== 'x' && last !== 'y';
}

const STEP2: ReadonlyArray<readonly [string, string]> = [
  ['ational', 'ate'],
  ['tional', 'tion'],
  ['enci', 'ence'],
  ['anci', 'ance'],
  ['izer', 'ize'],
  ['bli', 'ble'],
  ['alli', 'al'],
  ['entli', 'ent'],
  ['eli', 'e'],
  ['ousli', 'ous'],
  ['ization', 'ize'],
  ['ation', 'ate'],
  ['ator', 'ate'],
  ['alism', 'al'],
  ['iveness', 'ive'],
  ['fulness', 'ful'],
  ['ousness', 'ous'],
  ['aliti', 'al'],
  ['iviti', 'ive'],
  ['biliti', 'ble'],
  ['logi', 'log'],
];
const STEP3: ReadonlyArray<readonly [string, string]> = [
  ['icate', 'ic'],
  ['ative', ''],
  ['alize', 'al'],
  ['iciti', 'ic'],
  ['ical', 'ic'],
  ['ful', ''],
  ['ness', ''],
];
const STEP4 = [
  'al',
  'ance',
  'ence',
  'er',
  'ic',
  'able',
  'ible',
  'ant',
  'ement',
  'ment',
  'ent',
  'ion',
  'ou',
  'ism',
  'ate',
  'iti',
  'ous',
  'ive',
  'ize',
];

function replaceSuffix(w: string, rules: ReadonlyArray<readonly [string, string]>): string {
  for (const [suffix, replacement] of rules) {
    if (w.endsWith(suffix)) {
      const base = w.slice(0, -suffix.length);
      return measure(base) > 0 ? base + replacement : w;
    }
  }
  return w;
}

function porter(word: string): string {
  let w = word;
  // Step 1a: plurals.
  if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (w.endsWith('ies')) w = w.slice(0, -2);
  else if (w.endsWith('s') && !w.endsWith('ss')) w = w.slice(0, -1);
  // Step 1b: -ed / -ing.
  let cleanup = false;
  if (w.endsWith('eed')) {
    if (measure(w.slice(0, -3)) > 0) w = w.slice(0, -1);
  } else if (w.endsWith('ed') && hasVowel(w.slice(0, -2))) {
    w = w.slice(0, -2);
    cleanup = true;
  } else if (w.endsWith('ing') && hasVowel(w.slice(0, -3))) {
    w = w.slice(0, -3);
    cleanup = true;
  }
  if (cleanup) {
    if (w.endsWith('at') || w.endsWith('bl') || w.endsWith('iz')) w += 'e';
    else if (endsDoubleConsonant(w) && !/[lsz]$/.test(w)) w = w.slice(0, -1);
    else if (measure(w) === 1 && endsCvc(w)) w += 'e';
  }
  // Step 1c: y -> i after a vowel-bearing stem.
  if (w.endsWith('y') && hasVowel(w.slice(0, -1))) w = w.slice(0, -1) + 'i';
  // Steps 2-3: derivational suffixes.
  w = replaceSuffix(w, STEP2);
  w = replaceSuffix(w, STEP3);
  // Step 4: strip residual suffixes on long stems.
  for (const suffix of STEP4) {
    if (w.endsWith(suffix)) {
      const base = w.slice(0, -suffix.length);
      if (measure(base) > 1 && (suffix !== 'ion' || /[st]$/.test(base))) w = base;
      break;
    }
  }
  // Step 5: final -e and -ll.
  if (w.endsWith('e')) {
    const base = w.slice(0, -1);
    const m = measure(base);
    if (m > 1 || (m === 1 && !endsCvc(base))) w = base;
  }
  if (measure(w) > 1 && endsDoubleConsonant(w) && w.endsWith('l')) w = w.slice(0, -1);
  return w;
}
