/**
 * BERT WordPiece tokenizer, as described by a Hugging Face tokenizer.json with a BertNormalizer,
 * BertPreTokenizer, WordPiece model and [CLS] … [SEP] template (what all-MiniLM-L6-v2 ships).
 *
 * Written here rather than taken from a library: the JavaScript implementations on npm come inside
 * @huggingface/transformers (which pulls sharp and its own onnxruntime, both with install scripts) or are
 * native bindings; this one is ~100 lines over the vocabulary in the model's own tokenizer.json.
 */
import { readFileSync } from 'node:fs';

export interface WordPieceConfig {
  vocab: Record<string, number>;
  unkToken: string;
  clsToken: string;
  sepToken: string;
  continuingPrefix: string;
  maxCharsPerWord: number;
  lowercase: boolean;
  stripAccents: boolean;
  splitChinese: boolean;
  maxLength: number;
}

interface TokenizerJson {
  normalizer?: { type?: string; lowercase?: boolean; strip_accents?: boolean | null; handle_chinese_chars?: boolean };
  truncation?: { max_length?: number } | null;
  model?: {
    type?: string;
    vocab?: Record<string, number>;
    unk_token?: string;
    continuing_subword_prefix?: string;
    max_input_chars_per_word?: number;
  };
}

export interface Encoded {
  ids: number[];
}

export class WordPieceTokenizer {
  private readonly vocab: Map<string, number>;
  private readonly unk: number;
  private readonly cls: number;
  private readonly sep: number;

  constructor(private readonly config: WordPieceConfig) {
    this.vocab = new Map(Object.entries(config.vocab));
    const id = (token: string): number => {
      const v = this.vocab.get(token);
      if (v === undefined) throw new Error(`tokenizer vocabulary lacks ${token}`);
      return v;
    };
    this.unk = id(config.unkToken);
    this.cls = id(config.clsToken);
    this.sep = id(config.sepToken);
  }

  static fromFile(path: string): WordPieceTokenizer {
    const json = JSON.parse(readFileSync(path, 'utf8')) as TokenizerJson;
    const model = json.model;
    if (model?.type !== 'WordPiece' || !model.vocab) throw new Error(`${path}: not a WordPiece tokenizer`);
    const lowercase = json.normalizer?.lowercase ?? true;
    return new WordPieceTokenizer({
      vocab: model.vocab,
      unkToken: model.unk_token ?? '[UNK]',
      clsToken: '[CLS]',
      sepToken: '[SEP]',
      continuingPrefix: model.continuing_subword_prefix ?? '##',
      maxCharsPerWord: model.max_input_chars_per_word ?? 100,
      lowercase,
      // BertNormalizer: strip_accents null means "follow lowercase".
      stripAccents: json.normalizer?.strip_accents ?? lowercase,
      splitChinese: json.normalizer?.handle_chinese_chars ?? true,
      maxLength: json.truncation?.max_length ?? 128,
    });
  }

  /** Token ids with [CLS] and [SEP], truncated to maxLength (or `maxLength` if smaller). */
  encode(text: string, maxLength = this.config.maxLength): Encoded {
    const ids: number[] = [this.cls];
    const room = Math.max(2, Math.min(maxLength, this.config.maxLength)) - 1;
    for (const word of this.preTokenise(this.normalise(text))) {
      for (const id of this.wordPieces(word)) {
        if (ids.length >= room) break;
        ids.push(id);
      }
      if (ids.length >= room) break;
    }
    ids.push(this.sep);
    return { ids };
  }

  normalise(text: string): string {
    let out = '';
    for (const ch of text) {
      const cp = ch.codePointAt(0) as number;
      if (cp === 0 || cp === 0xfffd || isControl(ch)) continue;
      if (this.config.splitChinese && isCjk(cp)) out += ` ${ch} `;
      else out += /\s/u.test(ch) ? ' ' : ch;
    }
    if (this.config.lowercase) out = out.toLowerCase();
    if (this.config.stripAccents) out = out.normalize('NFD').replace(/\p{Mn}/gu, '');
    return out;
  }

  /** Whitespace-separated words, with every punctuation character its own word. */
  preTokenise(text: string): string[] {
    const words: string[] = [];
    for (const chunk of text.split(' ')) {
      let word = '';
      for (const ch of chunk) {
        if (isPunctuation(ch)) {
          if (word) words.push(word);
          words.push(ch);
          word = '';
        } else word += ch;
      }
      if (word) words.push(word);
    }
    return words;
  }

  /** Greedy longest-match-first pieces; a word with any unmatched part is one [UNK]. */
  private wordPieces(word: string): number[] {
    const chars = [...word];
    if (chars.length > this.config.maxCharsPerWord) return [this.unk];
    const pieces: number[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found: number | undefined;
      while (start < end) {
        const sub = (start > 0 ? this.config.continuingPrefix : '') + chars.slice(start, end).join('');
        found = this.vocab.get(sub);
        if (found !== undefined) break;
        end--;
      }
      if (found === undefined) return [this.unk];
      pieces.push(found);
      start = end;
    }
    return pieces;
  }
}

function isControl(ch: string): boolean {
  if (ch === '\t' || ch === '\n' || ch === '\r') return false;
  return /\p{Cc}|\p{Cf}/u.test(ch);
}

function isPunctuation(ch: string): boolean {
  const cp = ch.codePointAt(0) as number;
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return /\p{P}/u.test(ch);
}

/** The CJK ideograph blocks BERT's basic tokenizer splits into single characters. */
function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}
