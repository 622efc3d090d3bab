import { CalibrationCache, TARGET_CONFIDENT_WRONG } from './calibration';
import type { ArticleRecord } from './data';

const article = (id: string, title: string, questions: string[], updatedAt = '2026-12-01T00:00:00.000Z'): ArticleRecord => ({
  id,
  title,
  body: `${title}.`,
  questions,
  locale: 'en',
  updatedAt,
});

const kb = [
  article('card', 'Card delivery', ['where is my card', 'my card has not arrived', 'when will my card come', 'card still not here']),
  article('pin', 'PIN reset', ['forgot my pin', 'reset my pin', 'change the pin', 'pin is blocked']),
  article('refund', 'Refunds', ['how do I get a refund', 'refund my order', 'money back please', 'return and refund']),
];

describe('Tenant.answerCalibration (CalibrationCache)', () => {
  const env = process.env.BEEDESK_EMBEDDINGS;
  beforeAll(() => {
    // Word features only: the test must not depend on the model cache of the machine it runs on.
    process.env.BEEDESK_EMBEDDINGS = 'off';
  });
  afterAll(() => {
    process.env.BEEDESK_EMBEDDINGS = env;
  });

  it('calibrates on the knowledge base, with the hand-off rate at the calibrated and at the current threshold', async () => {
    const c = await new CalibrationCache().get('t', kb, 0.99);
    expect(c.articles).toBe(3);
    expect(c.questionsAsked).toBe(9);
    expect(c.targetConfidentWrong).toBe(TARGET_CONFIDENT_WRONG);
    expect(c.threshold).toBeGreaterThanOrEqual(0.3);
    expect(c.expectedHandOffRate).toBeGreaterThanOrEqual(0);
    expect(c.expectedHandOffRate).toBeLessThanOrEqual(1);
    // 0.99 is stricter than any calibrated threshold here: at least as many questions go to a person.
    expect(c.handOffRateAtCurrentThreshold!).toBeGreaterThanOrEqual(c.expectedHandOffRate!);
  });

  it('remembers the result until the articles or the current threshold change', async () => {
    const cache = new CalibrationCache();
    const first = await cache.get('t', kb, 0.8);
    expect(await cache.get('t', kb, 0.8)).toBe(first);
    const edited = [...kb.slice(0, 2), { ...kb[2]!, updatedAt: '2026-12-01T01:00:00.000Z' }];
    expect(await cache.get('t', edited, 0.8)).not.toBe(first);
    expect(await cache.get('t', edited, 0.7)).not.toBe(await cache.get('t', edited, 0.8));
  });

  it('has no threshold when no article has a question to hold out', async () => {
    const c = await new CalibrationCache().get('t', [article('a', 'A', ['only one']), article('b', 'B', [])], 0.8);
    expect(c.threshold).toBeNull();
    expect(c.expectedHandOffRate).toBeNull();
    expect(c.questionsAsked).toBe(0);
  });
});
