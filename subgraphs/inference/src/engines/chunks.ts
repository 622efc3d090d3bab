import { CJK, isChinese } from './types';

/** A CJK character, a word with its trailing space, or leading space. */
const PIECES = new RegExp(`${CJK.source}|\\S+\\s*|\\s+`, 'g');

/**
 * Splits a finished text into stream-sized pieces: a few words for space-separated scripts, a few
 * characters for CJK. Concatenating the pieces gives the text back exactly.
 */
export function streamChunks(text: string, wordsPerChunk = 3, cjkCharsPerChunk = 4): string[] {
  const pieces = text.match(PIECES) ?? [];
  const chunks: string[] = [];
  let current = '';
  let count = 0;
  for (const piece of pieces) {
    const cjk = piece.length === 1 && isChinese(piece);
    current += piece;
    count++;
    if (count >= (cjk ? cjkCharsPerChunk : wordsPerChunk)) {
      chunks.push(current);
      current = '';
      count = 0;
    }
  }
  if (current) chunks.push(current);
  return chunks;
}

/** What is left of `text` after a prefix that was already streamed (nothing when it diverged). */
export function remainderAfter(text: string, streamed: string): string {
  return text.startsWith(streamed) ? text.slice(streamed.length) : text;
}
