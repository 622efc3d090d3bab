import {
  accuracyAtCoverage,
  auroc,
  openSetF1,
  operatingPoint,
  thresholdForConfidentWrong,
  thresholdForFalseRejection,
  type Answered,
} from './eval-metrics';

const inScope = (confidence: number, correct = true): Answered => ({ inScope: true, correct, confidence });
const outOfScope = (confidence: number): Answered => ({ inScope: false, correct: false, confidence });

describe('eval metrics', () => {
  it('AUROC is the probability that a positive outscores a negative, ties counting half', () => {
    expect(auroc([0.9, 0.8], [0.1, 0.2])).toBe(1);
    expect(auroc([0.1], [0.9])).toBe(0);
    expect(auroc([0.5], [0.5])).toBe(0.5);
    // 3 positives × 2 negatives: pairs won 0.9>{0.4,0.6}=2, 0.5>{0.4}=1, 0.3>{}=0 → 3/6.
    expect(auroc([0.9, 0.5, 0.3], [0.4, 0.6])).toBeCloseTo(0.5);
  });

  it('an operating point counts answered out-of-scope questions as wrong and hand-offs per side', () => {
    const answers = [inScope(0.9), inScope(0.85, false), inScope(0.3), outOfScope(0.95), outOfScope(0.2)];
    const p = operatingPoint(answers, 0.8);
    expect(p.coverage).toBeCloseTo(3 / 5);
    expect(p.accuracy).toBeCloseTo(1 / 3);
    expect(p.confidentWrong).toBeCloseTo(2 / 5);
    expect(p.oosRecall).toBeCloseTo(1 / 2);
    expect(p.falseRejection).toBeCloseTo(1 / 3);
  });

  it('finds the thresholds for a false-rejection and a confident-but-wrong budget', () => {
    const answers = Array.from({ length: 20 }, (_, i) => inScope((i + 1) / 20));
    expect(operatingPoint(answers, thresholdForFalseRejection(answers, 0.05)).falseRejection).toBeLessThanOrEqual(0.05);
    const mixed = [inScope(0.99), inScope(0.95), inScope(0.9, false), inScope(0.8), inScope(0.7, false)];
    const t = thresholdForConfidentWrong(mixed, 0);
    expect(t).toBeCloseTo(0.95);
    expect(operatingPoint(mixed, t).confidentWrong).toBe(0);
    expect(accuracyAtCoverage(mixed, 0.4)).toBe(1);
  });

  it('open-set F1 averages every known class and the unknown class', () => {
    const f = openSetF1(
      [
        { truth: 'a', predicted: 'a' },
        { truth: 'b', predicted: 'b' },
        { truth: '?', predicted: '?' },
        { truth: '?', predicted: 'a' },
      ],
      '?',
    );
    // a: tp 1, fp 1 → 2/3; b: 1; unknown: tp 1, fn 1 → 2/3.
    expect(f.known).toBeCloseTo((2 / 3 + 1) / 2);
    expect(f.open).toBeCloseTo(2 / 3);
    expect(f.macro).toBeCloseTo((2 / 3 + 1 + 2 / 3) / 3);
    expect(f.accuracy).toBeCloseTo(3 / 4);
  });
});
