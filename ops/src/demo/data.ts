import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBanking77 } from '@beedesk/knowledge/eval';

/** ops/demo/data: shipped with the repo (a user's clone has no ../shared). */
export const demoDataDir = join(__dirname, '..', '..', 'demo', 'data');

export interface DemoArticle {
  id: string;
  title: string;
  body: string;
  questions: string[];
  locale: string;
}

export interface DemoTenant {
  id: string;
  name: string;
  articles: DemoArticle[];
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(join(demoDataDir, file), 'utf8')) as T;

/** demo-bank: one article per BANKING77 intent, our written answer, that intent's questions. */
export function demoBank(): DemoTenant {
  const { tenant } = readJson<{ tenant: { id: string; name: string } }>('demo-bank-tenant.json');
  const written = readJson<{ intent: string; id: string; title: string; body: string }[]>('banking77-articles.json');
  const questionsByIntent = new Map<string, string[]>();
  for (const q of loadBanking77(join(demoDataDir, 'banking77', 'train.csv'))) {
    const list = questionsByIntent.get(q.label) ?? [];
    list.push(q.text);
    questionsByIntent.set(q.label, list);
  }
  return {
    ...tenant,
    articles: written.map((a) => ({
      id: a.id,
      title: a.title,
      body: a.body,
      questions: questionsByIntent.get(a.intent) ?? [],
      locale: 'en',
    })),
  };
}

/** demo-cn: a Chinese online shop's FAQ. */
export function demoCn(): DemoTenant {
  const { tenant, articles } = readJson<{ tenant: { id: string; name: string }; articles: DemoArticle[] }>('demo-cn.json');
  return { ...tenant, articles };
}

export const demoTenants = (): DemoTenant[] => [demoBank(), demoCn()];
