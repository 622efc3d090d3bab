import { isChinese } from './types';

/**
 * Splits a finished text into stream-sized pieces: a few words for space-separated scripts, a few
 * characters for CJK. Concatenating the pieces gives the text back exactly.
 */
export function streamChunks(text: string, wordsPerChunk = 3, cjkCharsPerChunk = 4): string[] {
  const pieces = text.match(/[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]|\S+\s*|\s+/g) ?? [];
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
