/**
 * Per-tenant calibration: the confidence threshold chosen from the tenant's own knowledge base. Its
 * example questions are split into folds; each fold is held out in turn, an index is trained on the rest
 * (every article keeps its title, body and other questions) and the held-out questions are asked. The
 * threshold is the lowest at which the confidently-answered-but-wrong share of those questions stays within
 * the stated rate, and the share below it is the hand-off rate an admin can expect.
 */
import { rng, shuffleInPlace } from './classifier';
import { thresholdForConfidentWrong, type Answered } from './eval-metrics';
import { KnowledgeIndex, type KnowledgeIndexOptions } from './index';
import type { KnowledgeArticle } from './types';

export interface TenantCalibration {
  threshold: number;
  /** The rate asked for (confidently answered but wrong, of all questions). */
  targetConfidentWrong: number;
  /** Measured on the held-out questions at `threshold`. */
  confidentWrong: number;
  /** Held-out questions below the threshold: what would be handed to a human. */
  handOff: number;
  /** How many questions were held out and asked. */
  asked: number;
  /** The same measures at another threshold (CalibrationOptions.compareAt, e.g. the tenant's current one). */
  compared?: { threshold: number; confidentWrong: number; handOff: number };
}

export interface CalibrationOptions {
  targetConfidentWrong?: number;
  folds?: number;
  seed?: number;
  /** Never below this: with no out-of-scope questions to learn from, a very low threshold would answer anything. */
  floor?: number;
  index?: KnowledgeIndexOptions;
  /** Also measure confident-but-wrong and hand-off at this threshold (TenantCalibration.compared). */
  compareAt?: number;
}

/** Null when the knowledge base has too few example questions to hold any out (fewer than 2 per article). */
export async function calibrateThreshold(
  articles: readonly KnowledgeArticle[],
  options: CalibrationOptions = {},
): Promise<TenantCalibration | null> {
  const folds = Math.max(2, options.folds ?? 3);
  const target = options.targetConfidentWrong ?? 0.015;
  const random = rng(options.seed ?? 1);
  // Fold of each question per article (an article's first question, after shuffling, is never held out).
  const foldOf = articles.map((a) => {
    const order = a.questions.map((_, i) => i);
    shuffleInPlace(order, random);
    const fold = new Array<number>(a.questions.length).fill(-1);
    order.forEach((q, n) => {
      if (n > 0) fold[q] = (n - 1) % folds;
    });
    return fold;
  });
  const answers: Answered[] = [];
  for (let f = 0; f < folds; f++) {
    const train = articles.map((a, i) => ({ ...a, questions: a.questions.filter((_, q) => foldOf[i]?.[q] !== f) }));
    const heldOut = articles.flatMap((a, i) => a.questions.filter((_, q) => foldOf[i]?.[q] === f).map((text) => ({ text, id: a.id })));
    if (heldOut.length === 0) continue;
    const index = new KnowledgeIndex(options.index ?? {});
    for (const a of train) index.upsert(a);
    index.rebuild();
    await index.prepareEmbeddings();
    for (const q of heldOut) {
      const r = await index.searchAsync(q.text, { limit: 1 });
      answers.push({ inScope: true, correct: r.best?.article.id === q.id, confidence: r.best?.confidence ?? 0 });
    }
  }
  if (answers.length === 0) return null;
  const threshold = Math.max(options.floor ?? 0.3, thresholdForConfidentWrong(answers, target));
  const at = (t: number): { confidentWrong: number; handOff: number } => {
    const answered = answers.filter((a) => a.confidence >= t);
    return { confidentWrong: answered.filter((a) => !a.correct).length / answers.length, handOff: 1 - answered.length / answers.length };
  };
  return {
    threshold,
    targetConfidentWrong: target,
    ...at(threshold),
    asked: answers.length,
    ...(options.compareAt === undefined ? {} : { compared: { threshold: options.compareAt, ...at(options.compareAt) } }),
  };
}
