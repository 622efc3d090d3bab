/** Pure figures of the evaluation (eval.ts): ranking quality of confidences and open-set F1. */

/** One question as the engine answered it. */
export interface Answered {
  /** The question belongs to an article of the knowledge base (false: out of scope). */
  inScope: boolean;
  /** The engine's best article is the right one (always false for an out-of-scope question). */
  correct: boolean;
  /** The best article's confidence (0 when nothing was found). */
  confidence: number;
}

/**
 * Area under the ROC curve of `positives` against `negatives` by score (the probability that a random
 * positive scores above a random negative; ties count half). 0.5 for an empty side.
 */
export function auroc(positives: readonly number[], negatives: readonly number[]): number {
  if (positives.length === 0 || negatives.length === 0) return 0.5;
  const all = [...positives.map((s) => ({ s, p: 1 })), ...negatives.map((s) => ({ s, p: 0 }))].sort((a, b) => a.s - b.s);
  // Mann-Whitney U from average ranks.
  let rankSum = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j < all.length && (all[j] as { s: number }).s === (all[i] as { s: number }).s) j++;
    const avgRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if ((all[k] as { p: number }).p === 1) rankSum += avgRank;
    i = j;
  }
  const n1 = positives.length;
  return (rankSum - (n1 * (n1 + 1)) / 2) / (n1 * negatives.length);
}

export interface OperatingPoint {
  threshold: number;
  /** Fraction of all questions answered (confidence ≥ threshold). */
  coverage: number;
  /** Right answers among the answered (an answered out-of-scope question is wrong). */
  accuracy: number;
  /** Answered but wrong, as a fraction of all questions. */
  confidentWrong: number;
  /** Out-of-scope questions handed to a human, of all out-of-scope ones. */
  oosRecall: number;
  /** In-scope questions handed to a human, of all in-scope ones. */
  falseRejection: number;
}

export function operatingPoint(answers: readonly Answered[], threshold: number): OperatingPoint {
  let answered = 0;
  let right = 0;
  let inScope = 0;
  let rejectedIn = 0;
  let oos = 0;
  let rejectedOos = 0;
  for (const a of answers) {
    const yes = a.confidence >= threshold;
    if (yes) {
      answered++;
      if (a.correct) right++;
    }
    if (a.inScope) {
      inScope++;
      if (!yes) rejectedIn++;
    } else {
      oos++;
      if (!yes) rejectedOos++;
    }
  }
  const n = Math.max(1, answers.length);
  return {
    threshold,
    coverage: answered / n,
    accuracy: answered ? right / answered : 1,
    confidentWrong: (answered - right) / n,
    oosRecall: oos ? rejectedOos / oos : 0,
    falseRejection: inScope ? rejectedIn / inScope : 0,
  };
}

/** The threshold that hands at most `rate` of in-scope questions to a human (the rate-quantile of their confidences). */
export function thresholdForFalseRejection(answers: readonly Answered[], rate: number): number {
  const scores = answers
    .filter((a) => a.inScope)
    .map((a) => a.confidence)
    .sort((a, b) => a - b);
  if (scores.length === 0) return 0;
  return scores[Math.floor(rate * scores.length)] as number;
}

/** The lowest threshold whose confident-but-wrong rate (of all questions) is at most `rate`. */
export function thresholdForConfidentWrong(answers: readonly Answered[], rate: number): number {
  const sorted = [...answers].sort((a, b) => b.confidence - a.confidence);
  let wrong = 0;
  let best = 1;
  const n = Math.max(1, answers.length);
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i] as Answered;
    if (!a.correct) wrong++;
    // A threshold can only sit between distinct confidences.
    const next = sorted[i + 1];
    if (next && next.confidence === a.confidence) continue;
    if (wrong / n <= rate) best = a.confidence;
    else break;
  }
  return best;
}

/** Accuracy of the answered questions when only the most confident `coverage` fraction is answered. */
export function accuracyAtCoverage(answers: readonly Answered[], coverage: number): number {
  const sorted = [...answers].sort((a, b) => b.confidence - a.confidence);
  const k = Math.max(1, Math.round(coverage * sorted.length));
  return sorted.slice(0, k).filter((a) => a.correct).length / k;
}

/**
 * Open-set macro F1: every known class plus one "unknown" class (predicted when the engine is not
 * confident), as in the open intent detection literature (e.g. ADB, Zhang et al. 2021).
 */
export function openSetF1(
  pairs: ReadonlyArray<{ truth: string; predicted: string }>,
  unknown: string,
): { macro: number; known: number; open: number; accuracy: number } {
  const tp = new Map<string, number>();
  const fp = new Map<string, number>();
  const fn = new Map<string, number>();
  const classes = new Set<string>([unknown]);
  let right = 0;
  const inc = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);
  for (const { truth, predicted } of pairs) {
    classes.add(truth);
    if (truth === predicted) {
      inc(tp, truth);
      right++;
    } else {
      inc(fn, truth);
      inc(fp, predicted);
    }
  }
  const f1 = (c: string): number => {
    const t = tp.get(c) ?? 0;
    const denom = 2 * t + (fp.get(c) ?? 0) + (fn.get(c) ?? 0);
    return denom ? (2 * t) / denom : 0;
  };
  const known = [...classes].filter((c) => c !== unknown);
  const knownF1 = known.map(f1);
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return {
    macro: mean([...knownF1, f1(unknown)]),
    known: mean(knownF1),
    open: f1(unknown),
    accuracy: right / Math.max(1, pairs.length),
  };
}
