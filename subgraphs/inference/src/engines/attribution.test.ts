import { usedSources } from './attribution';

const articles = [
  { id: 'declined', title: 'Card payment declined', body: 'A declined payment is usually a blocked card or a low balance.' },
  { id: 'phone', title: 'Lost or stolen phone', body: 'Freeze your account from another device and call us.' },
  { id: 'refund', title: '退款', body: '退款会在七个工作日内退回原支付方式。' },
];

describe('usedSources: the prompt articles an LLM answer used', () => {
  it('reads numbered citations, in article order, ignoring numbers beyond the prompt', () => {
    expect(usedSources('Check the app [2] and see [1]; also [7].', articles)).toEqual(['declined', 'phone']);
  });

  it('falls back to titles the answer names', () => {
    expect(usedSources('As "Lost or stolen phone" says, freeze it.', articles)).toEqual(['phone']);
  });

  it('falls back to the one article most of the answer comes from', () => {
    expect(usedSources('Please freeze your account from another device, then call us.', articles)).toEqual(['phone']);
    expect(usedSources('退款会在七个工作日内退回。', articles)).toEqual(['refund']);
  });

  it('claims nothing for an answer that uses no article', () => {
    expect(usedSources("Sorry, I can't help with that. Shall I get you a person?", articles)).toEqual([]);
    expect(usedSources('', articles)).toEqual([]);
  });
});
