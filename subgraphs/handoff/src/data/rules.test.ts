import { asksForPerson, withinWorkingHours } from './rules';
import { customerLocaleOf, localeOfText, noticeText } from './messages';

describe('handoff keywords', () => {
  const keywords = ['human', 'agent', '人工'];
  it.each([
    ['I want to talk to a human', true],
    ['HUMAN please!', true],
    ['agent', true],
    ['转人工', true],
    ['我要人工服务', true],
    ['is this humane?', false],
    ['my travel agents booked it', false],
    ['where is my card', false],
    // Questions about people, not asking for one: too long beside the keyword (MAX_WORDS_BESIDE_KEYWORD).
    ['国庆节有人工客服吗？', false],
    ['can my travel agent book flights and hotels with my card abroad', false],
    ['could I talk to a human please', true],
  ])('%s → %s', (question, expected) => {
    expect(asksForPerson(question, keywords)).toBe(expected);
  });

  it('takes the tenant’s own keywords, regular-expression characters included', () => {
    expect(asksForPerson('need a c++ expert', ['c++ expert'])).toBe(true);
    expect(asksForPerson('anything', [])).toBe(false);
  });
});

describe('working hours', () => {
  const rules = { timeZone: 'Europe/Berlin', workingHours: [{ days: [1, 2, 3, 4, 5], from: '09:00', to: '17:30' }] };
  it('is always open without spans', () => {
    expect(withinWorkingHours({ timeZone: 'UTC', workingHours: [] })).toBe(true);
  });
  it('reads the time in the tenant’s zone', () => {
    // Monday 2026-11-30 08:30 UTC is 09:30 in Berlin (CET, UTC+1).
    expect(withinWorkingHours(rules, new Date('2026-11-30T08:30:00Z'))).toBe(true);
    expect(withinWorkingHours(rules, new Date('2026-11-30T07:30:00Z'))).toBe(false);
    expect(withinWorkingHours(rules, new Date('2026-11-30T16:30:00Z'))).toBe(false); // 17:30 is the end, exclusive
    // Saturday.
    expect(withinWorkingHours(rules, new Date('2026-12-05T10:00:00Z'))).toBe(false);
  });
});

describe('notices in the customer’s language', () => {
  it('says the place in the line in English and Chinese', () => {
    expect(noticeText('WAITING_FOR_AGENT', 'en', { position: 2 })).toBe('You are waiting for a person. 2 conversations are ahead of you.');
    expect(noticeText('WAITING_FOR_AGENT', 'en', { position: 1 })).toBe('You are waiting for a person. 1 conversation is ahead of you.');
    expect(noticeText('WAITING_FOR_AGENT', 'zh-CN', { position: 3 })).toBe('正在为您转接人工客服，您前面还有 3 位。');
    expect(noticeText('AGENT_JOINED', 'zh', { agentName: 'Ann' })).toBe('客服 Ann 已接入对话。');
    expect(noticeText('NO_AGENT_ONLINE', null, { waits: false })).toBe(
      'No agent is online right now, so the assistant will keep helping you.',
    );
  });
  it('maps language tags and text to en or zh-CN', () => {
    expect([customerLocaleOf('zh-Hans'), customerLocaleOf('fr'), customerLocaleOf(null)]).toEqual(['zh-CN', 'en', null]);
    expect([localeOfText('我的卡丢了'), localeOfText('my card is lost')]).toEqual(['zh-CN', 'en']);
  });
});
