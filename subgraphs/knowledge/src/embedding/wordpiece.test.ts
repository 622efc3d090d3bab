import { WordPieceTokenizer } from './wordpiece';

const vocab = [
  '[PAD]',
  '[UNK]',
  '[CLS]',
  '[SEP]',
  'my',
  'card',
  'was',
  'decline',
  '##d',
  '!',
  'cafe',
  '丢',
  '卡',
  'top',
  '-',
  'up',
  "'",
  's',
];
const tokenizer = new WordPieceTokenizer({
  vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
  unkToken: '[UNK]',
  clsToken: '[CLS]',
  sepToken: '[SEP]',
  continuingPrefix: '##',
  maxCharsPerWord: 100,
  lowercase: true,
  stripAccents: true,
  splitChinese: true,
  maxLength: 128,
});
const tokens = (text: string, max?: number): string[] => tokenizer.encode(text, max).ids.map((id) => vocab[id] as string);

describe('WordPieceTokenizer', () => {
  it('lowercases, splits punctuation and uses continuation pieces', () => {
    expect(tokens('My card was DECLINED!')).toEqual(['[CLS]', 'my', 'card', 'was', 'decline', '##d', '!', '[SEP]']);
  });

  it('strips accents, splits CJK ideographs and hyphens, and maps unknown words to one [UNK]', () => {
    expect(tokens('Café top-up 卡丢了')).toEqual(['[CLS]', 'cafe', 'top', '-', 'up', '卡', '丢', '[UNK]', '[SEP]']);
    expect(tokens('cardx')).toEqual(['[CLS]', '[UNK]', '[SEP]']);
  });

  it('truncates to the token limit, keeping [CLS] and [SEP]', () => {
    expect(tokens('my card was declined', 4)).toEqual(['[CLS]', 'my', 'card', '[SEP]']);
  });
});
