import { isFollowUp } from './context';
import { extractFeatures } from './features';
import { normalise, segmentWords, stem, tokenise } from './text';

describe('text', () => {
  it('normalises with NFKC and case folding', () => {
    expect(normalise('ＨＥＬＬＯ　Ｗｏｒｌｄ１２３')).toBe('hello world123');
    expect(normalise('Don’t')).toBe('dont');
  });

  it('segments Chinese into words with Intl.Segmenter', () => {
    const words = segmentWords(normalise('我的银行卡还没有到，怎么办？'));
    expect(words).toEqual(expect.arrayContaining(['银行', '没有']));
    expect(words).not.toContain('，');
  });

  it('segments English on letters and digits, dropping punctuation and emoji', () => {
    expect(segmentWords(normalise('Top-up failed 😀, why?? 10 EUR'))).toEqual(['top', 'up', 'failed', 'why', '10', 'eur']);
  });

  it('stems inflections to a common form', () => {
    expect(stem('arrived')).toBe(stem('arriving'));
    expect(stem('arrives')).toBe(stem('arrive'));
    expect(stem('cards')).toBe('card');
    expect(stem('charges')).toBe(stem('charged'));
    expect(stem('transfers')).toBe(stem('transferring'));
    expect(stem('银行')).toBe('银行');
    expect(tokenise('Cards Arrived').map((t) => t.term)).toEqual(['card', stem('arrive')]);
  });

  it('extracts character n-grams across Chinese runs so segmentation differences still match', () => {
    const [, pairs, chars] = extractFeatures('付完款');
    expect(chars.has('付')).toBe(true);
    expect(chars.has('付完')).toBe(true);
    expect(pairs.has('付_款')).toBe(true);
  });

  it('detects elliptical follow-ups', () => {
    expect(isFollowUp('and how long does that take?')).toBe(true);
    expect(isFollowUp('What about fees?')).toBe(true);
    expect(isFollowUp('那退款呢？')).toBe(true);
    expect(isFollowUp('How long does a bank transfer to Germany usually take?')).toBe(false);
    expect(isFollowUp('我的银行卡还没有寄到，应该怎么办')).toBe(false);
    expect(isFollowUp('')).toBe(false);
  });
});
