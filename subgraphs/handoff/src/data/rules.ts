import type { HandoffRulesRecord } from '@beedesk/tenant/data';

/** Whether `now` falls in the tenant's working hours (none set: always). */
export function withinWorkingHours(rules: Pick<HandoffRulesRecord, 'timeZone' | 'workingHours'>, now = new Date()): boolean {
  if (rules.workingHours.length === 0) return true;
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat('en-GB', {
      timeZone: rules.timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).formatToParts(now);
  } catch {
    return true;
  }
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(get('weekday')) + 1;
  const time = `${get('hour')}:${get('minute')}`;
  return rules.workingHours.some((span) => span.days.includes(day) && time >= span.from && time < span.to);
}

const UNSPACED = /[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]/;
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Words (or, in an unspaced script, characters) a message may hold besides the keyword and still count as
 * asking for a person: "I want to talk to a human", "转人工", "我要人工服务" do; a question *about* people,
 * such as "国庆节有人工客服吗？" (is there human service on the national holiday?), goes to the engine.
 */
export const MAX_WORDS_BESIDE_KEYWORD = 6;

const UNSPACED_CHARS = /[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]/gu;

/** Words of a spaced script plus characters of an unspaced one. */
function wordsIn(text: string): number {
  const unspaced = text.match(UNSPACED_CHARS)?.length ?? 0;
  const spaced = text.replace(UNSPACED_CHARS, ' ').match(/[\p{L}\p{N}]+/gu)?.length ?? 0;
  return unspaced + spaced;
}

/**
 * Whether a short message asks for a person by one of the tenant's keywords: as a whole word,
 * case-insensitive (a keyword in an unspaced script, e.g. Chinese, anywhere), with at most
 * MAX_WORDS_BESIDE_KEYWORD other words.
 */
export function asksForPerson(question: string, keywords: readonly string[]): boolean {
  const text = question.toLowerCase();
  return keywords.some((raw) => {
    const keyword = raw.trim().toLowerCase();
    if (!keyword) return false;
    const found = UNSPACED.test(keyword)
      ? text.indexOf(keyword)
      : text.search(new RegExp(`(?<=^|[^\\p{L}\\p{N}])${escape(keyword)}(?=$|[^\\p{L}\\p{N}])`, 'u'));
    if (found < 0) return false;
    const rest = text.slice(0, found) + ' ' + text.slice(found + keyword.length);
    return wordsIn(rest) <= MAX_WORDS_BESIDE_KEYWORD;
  });
}
