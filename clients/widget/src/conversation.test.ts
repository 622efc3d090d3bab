import { applyEvent, applySnapshot, assistantMessage, hasGap, type AnswerEvent, type Message } from './conversation';
import { completeSentences, pickLocale } from './i18n';

const token = (seq: number, delta: string): AnswerEvent => ({ answerId: 'a1', seq, kind: 'TOKEN', delta });
const stored = 'Your card arrives in 3.5 days. Track it in the app! 谢谢。';
const pieces = ['Your card ', 'arrives in 3.5 days. ', 'Track it ', 'in the app! ', '谢谢。'];
const done: AnswerEvent = {
  answerId: 'a1',
  seq: pieces.length + 1,
  kind: 'DONE',
  answer: { id: 'a1', status: 'DONE', text: stored, needsHuman: false, sources: [{ id: 's1', title: 'Cards', body: 'b' }] },
};

const run = (events: AnswerEvent[], start: Message = assistantMessage('a1')): Message => events.reduce((m, e) => applyEvent(m, e), start);

describe('conversation: the text shown is always a prefix of the stored answer', () => {
  it('appends tokens in seq order and takes the final answer', () => {
    const streaming = run(pieces.map((p, i) => token(i + 1, p)));
    expect(streaming.text).toBe(stored);
    expect(streaming.status).toBe('streaming');
    const final = applyEvent(streaming, done);
    expect(final.text).toBe(stored);
    expect(final.status).toBe('done');
    expect(final.sources[0]!.title).toBe('Cards');
  });

  it('drops duplicates redelivered after a reconnect', () => {
    const message = run([token(1, pieces[0]!), token(2, pieces[1]!), token(1, pieces[0]!), token(2, pieces[1]!), token(3, pieces[2]!)]);
    expect(message.text).toBe(pieces.slice(0, 3).join(''));
    expect(message.lastSeq).toBe(3);
  });

  it('holds tokens after a gap until a snapshot fills it, then continues without loss or repetition', () => {
    // Seq 3 and 4 were lost in the drop; 5 arrives on the new connection.
    const gapped = run([token(1, pieces[0]!), token(2, pieces[1]!), token(5, pieces[4]!)]);
    expect(gapped.text).toBe(pieces.slice(0, 2).join(''));
    expect(hasGap(gapped)).toBe(true);
    // The stored progress up to seq 4 (Answer.streamed).
    const resumed = applySnapshot(gapped, {
      id: 'a1',
      status: 'ANSWERING',
      text: '',
      needsHuman: false,
      sources: [],
      streamed: { text: pieces.slice(0, 4).join(''), seq: 4 },
    });
    expect(resumed.text).toBe(stored);
    expect(hasGap(resumed)).toBe(false);
    expect(applyEvent(resumed, token(5, pieces[4]!)).text).toBe(stored);
  });

  it('ignores a snapshot older than what is shown, and a final answer replaces everything', () => {
    const message = run(pieces.slice(0, 3).map((p, i) => token(i + 1, p)));
    const stale = applySnapshot(message, {
      id: 'a1',
      status: 'ANSWERING',
      text: '',
      needsHuman: false,
      sources: [],
      streamed: { text: 'Your', seq: 1 },
    });
    expect(stale).toBe(message);
    const final = applySnapshot(message, {
      id: 'a1',
      status: 'DONE',
      text: stored,
      needsHuman: true,
      sources: [],
      feedback: { helpful: true },
    });
    expect(final.text).toBe(stored);
    expect(final.feedback).toBe(true);
    expect(applyEvent(final, token(4, 'late'))).toBe(final);
  });

  it('keeps the queue position until the first token', () => {
    const queued = applyEvent(assistantMessage('a1'), { answerId: 'a1', seq: 0, kind: 'QUEUED', queuePosition: 3 });
    expect(queued.queuePosition).toBe(3);
    expect(applyEvent(queued, token(1, 'x')).queuePosition).toBeNull();
  });
});

describe('i18n', () => {
  it('picks Simplified Chinese for any zh tag, from the setting, the page, then the browser', () => {
    expect(pickLocale(undefined, 'zh-CN', ['en-US'])).toBe('zh-CN');
    expect(pickLocale(undefined, 'zh-Hans', [])).toBe('zh-CN');
    expect(pickLocale('en', 'zh', [])).toBe('en');
    expect(pickLocale(undefined, '', ['zh-SG', 'en'])).toBe('zh-CN');
    expect(pickLocale(undefined, undefined, ['de-DE'])).toBe('en');
  });

  it('splits streamed text into whole sentences for announcements (never "3." of "3.5")', () => {
    expect(completeSentences('Your card arrives in 3.5 days. Track')).toEqual({
      sentences: ['Your card arrives in 3.5 days.'],
      rest: ' Track',
    });
    expect(completeSentences('您好。请稍等！正在')).toEqual({ sentences: ['您好。', '请稍等！'], rest: '正在' });
    expect(completeSentences('Done!')).toEqual({ sentences: [], rest: 'Done!' });
  });
});
