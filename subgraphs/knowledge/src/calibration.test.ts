import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { calibrateThreshold } from './calibration';
import type { KnowledgeArticle } from './types';

const kb = JSON.parse(readFileSync(resolve(__dirname, '../../../ops/demo/data/demo-cn.json'), 'utf8')) as {
  articles: KnowledgeArticle[];
};

describe('calibrateThreshold', () => {
  it('picks the threshold from held-out questions of the knowledge base, within the stated confident-but-wrong rate', async () => {
    const strict = await calibrateThreshold(kb.articles, { targetConfidentWrong: 0, floor: 0, index: { encoder: null } });
    const loose = await calibrateThreshold(kb.articles, { targetConfidentWrong: 0.2, floor: 0, index: { encoder: null } });
    expect(strict && loose).toBeTruthy();
    if (!strict || !loose) return;
    expect(strict.asked).toBeGreaterThan(kb.articles.length);
    expect(strict.confidentWrong).toBe(0);
    expect(loose.confidentWrong).toBeLessThanOrEqual(0.2);
    // A looser budget answers more: a lower threshold and fewer hand-offs.
    expect(loose.threshold).toBeLessThanOrEqual(strict.threshold);
    expect(loose.handOff).toBeLessThanOrEqual(strict.handOff);
    expect(strict.handOff).toBeGreaterThan(0);
  });

  it('measures another threshold on the same held-out questions (e.g. the tenant’s current one)', async () => {
    const cal = await calibrateThreshold(kb.articles, { targetConfidentWrong: 0.015, index: { encoder: null }, compareAt: 0.99 });
    expect(cal?.compared?.threshold).toBe(0.99);
    // A stricter threshold than the calibrated one hands off at least as many questions, with no more confident mistakes.
    expect(cal!.compared!.handOff).toBeGreaterThanOrEqual(cal!.handOff);
    expect(cal!.compared!.confidentWrong).toBeLessThanOrEqual(cal!.confidentWrong);
    const same = await calibrateThreshold(kb.articles, {
      targetConfidentWrong: 0.015,
      index: { encoder: null },
      compareAt: cal!.threshold,
    });
    expect(same!.compared).toEqual({ threshold: cal!.threshold, confidentWrong: cal!.confidentWrong, handOff: cal!.handOff });
  });

  it('has nothing to hold out when every article has a single question', async () => {
    const single = kb.articles.map((a) => ({ ...a, questions: a.questions.slice(0, 1) }));
    expect(await calibrateThreshold(single, { index: { encoder: null } })).toBeNull();
  });
});
