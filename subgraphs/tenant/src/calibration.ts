/**
 * Tenant.answerCalibration: the knowledge engine calibrated on the tenant's own knowledge base
 * (@beedesk/knowledge calibrateThreshold), for admins to see what threshold the engine would need to keep
 * confident wrong answers at the target, and what share of questions it would then hand to a person.
 * Calibrating trains the engine three times, so the result is remembered per tenant until its articles
 * change (a fingerprint of their ids and update times), and concurrent requests share one run.
 */
import { createHash } from 'node:crypto';
import { currentSentenceEncoder, SentenceEncoder, useSentenceEncoder } from '@beedesk/knowledge';
import { calibrateThreshold } from '@beedesk/knowledge/calibration';
import type { ArticleRecord } from './data';

/** The confident-but-wrong rate (of all questions) a tenant's threshold is calibrated for: issue 17's bar. */
export const TARGET_CONFIDENT_WRONG = 0.015;

export interface AnswerCalibrationRecord {
  threshold: number | null;
  targetConfidentWrong: number;
  confidentWrong: number | null;
  expectedHandOffRate: number | null;
  handOffRateAtCurrentThreshold: number | null;
  confidentWrongAtCurrentThreshold: number | null;
  questionsAsked: number;
  articles: number;
  computedAt: string;
}

/** Tenants whose calibration is remembered: beyond it the least recently computed is forgotten. */
const MAX_TENANTS = 200;

function fingerprint(articles: readonly ArticleRecord[], currentThreshold: number): string {
  const hash = createHash('sha256');
  hash.update(String(currentThreshold));
  for (const a of articles) hash.update(`\u0000${a.id}\u0001${a.updatedAt}`);
  return hash.digest('base64url');
}

export class CalibrationCache {
  private readonly entries = new Map<string, { key: string; result: Promise<AnswerCalibrationRecord> }>();
  private encoderTried = false;

  async get(tenantId: string, articles: readonly ArticleRecord[], currentThreshold: number): Promise<AnswerCalibrationRecord> {
    const key = fingerprint(articles, currentThreshold);
    const hit = this.entries.get(tenantId);
    if (hit?.key === key) return hit.result;
    const result = this.compute(articles, currentThreshold);
    this.entries.delete(tenantId);
    this.entries.set(tenantId, { key, result });
    // A failed run is not remembered: the next request tries again.
    result.catch(() => {
      if (this.entries.get(tenantId)?.result === result) this.entries.delete(tenantId);
    });
    while (this.entries.size > MAX_TENANTS) this.entries.delete(this.entries.keys().next().value as string);
    return result;
  }

  /** The same engine as inference answers with: sentence embeddings when the model is cached (encoder.ts). */
  private async encoder(): Promise<void> {
    if (this.encoderTried || currentSentenceEncoder()) return;
    this.encoderTried = true;
    useSentenceEncoder(await SentenceEncoder.load());
  }

  private async compute(articles: readonly ArticleRecord[], currentThreshold: number): Promise<AnswerCalibrationRecord> {
    await this.encoder();
    const calibration = await calibrateThreshold(articles, { targetConfidentWrong: TARGET_CONFIDENT_WRONG, compareAt: currentThreshold });
    return {
      threshold: calibration?.threshold ?? null,
      targetConfidentWrong: TARGET_CONFIDENT_WRONG,
      confidentWrong: calibration?.confidentWrong ?? null,
      expectedHandOffRate: calibration?.handOff ?? null,
      handOffRateAtCurrentThreshold: calibration?.compared?.handOff ?? null,
      confidentWrongAtCurrentThreshold: calibration?.compared?.confidentWrong ?? null,
      questionsAsked: calibration?.asked ?? 0,
      articles: articles.length,
      computedAt: new Date().toISOString(),
    };
  }
}
