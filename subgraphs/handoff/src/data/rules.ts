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
 * Whether a question asks for a person by one of the tenant's keywords: as a whole word, case-insensitive;
 * a keyword in an unspaced script (Chinese) anywhere in the question.
 */
export function asksForPerson(question: string, keywords: readonly string[]): boolean {
  const text = question.toLowerCase();
  return keywords.some((raw) => {
    const keyword = raw.trim().toLowerCase();
    if (!keyword) return false;
    if (UNSPACED.test(keyword)) return text.includes(keyword);
    return new RegExp(`(^|[^\\p{L}\\p{N}])${escape(keyword)}($|[^\\p{L}\\p{N}])`, 'u').test(text);
  });
}
