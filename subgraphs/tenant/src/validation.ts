import { badInput, isSafeId, newId } from '@beedesk/runtime';
import { type ArticleRecord } from './data';

/** Per-field bounds of one article; a tenant's caps on its whole knowledge base are settings (config.ts). */
export const LIMITS = { title: 200, body: 20_000, question: 500 } as const;
const LOCALE = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

export interface ArticleInput {
  id?: string | null;
  title: string;
  body: string;
  questions?: string[] | null;
  locale?: string | null;
}

/** Checks an article from a caller and normalises it; every refusal names the field. */
export function articleFromInput(input: ArticleInput, now = new Date()): ArticleRecord {
  if (input.id != null && !isSafeId(input.id)) throw badInput('id: letters, digits, _ and -, at most 64', 'id');
  const title = input.title.trim();
  const body = input.body.trim();
  if (!title || title.length > LIMITS.title) throw badInput(`title: 1 to ${LIMITS.title} characters`, 'title');
  if (!body || body.length > LIMITS.body) throw badInput(`body: 1 to ${LIMITS.body} characters`, 'body');
  const questions = (input.questions ?? []).map((q) => q.trim()).filter(Boolean);
  if (questions.some((q) => q.length > LIMITS.question))
    throw badInput(`questions: each at most ${LIMITS.question} characters`, 'questions');
  const locale = input.locale ?? 'en';
  if (!LOCALE.test(locale)) throw badInput('locale: a BCP-47 tag such as en or zh-CN', 'locale');
  return { id: input.id ?? newId(), title, body, questions, locale, updatedAt: now.toISOString() };
}
