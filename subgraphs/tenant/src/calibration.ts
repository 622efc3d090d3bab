/**
 * Tenant.answerCalibration: the knowledge engine calibrated on the tenant's own knowledge base
 * (@beedesk/knowledge calibrateThreshold), for admins to see what threshold the engine would need to keep
 * confident wrong answers at the target, and what share of questions it would then hand to a person.
 * Calibrating trains the engine three times, so the result is remembered per tenant until its articles
 * change (a fingerprint of their ids and update times), and concurrent requests share one run.
 *
 * The training runs in a worker thread (@beedesk/knowledge/builder's worker, the one inference builds models
 * in), never on this service's event loop: a 10k-question knowledge base takes seconds of CPU, which would
 * stall every tenant's requests here. One worker per process, so one calibration at a time (the worker runs
 * them in order); it exits when idle, freeing the embedding model it loads. A request waits at most
 * `waitMs` for its result: beyond that it is answered SERVICE_UNAVAILABLE (reason CALIBRATION_BUSY) while
 * the run goes on, and the next request gets the result it remembers.
 */
import { createHash } from 'node:crypto';
import { createCalibrator, type Calibrator } from '@beedesk/knowledge/builder';
import { codedError, ErrorCode } from '@beedesk/runtime';
import type { GraphQLError } from 'graphql';
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

/** How long a request waits for its calibration (queued behind others, then running) before CALIBRATION_BUSY. */
export const CALIBRATION_WAIT_MS = 20_000;
/** The worker exits after this long without a calibration, freeing the embedding model. */
export const CALIBRATION_IDLE_EXIT_MS = 60_000;

export const calibrationBusy = (waitMs: number): GraphQLError =>
  codedError(
    ErrorCode.SERVICE_UNAVAILABLE,
    `The answer calibration did not finish within ${Math.round(waitMs / 1000)} s (it runs one tenant at a time); it goes on, ask again shortly.`,
    { reason: 'CALIBRATION_BUSY', retryAfterMs: waitMs },
  );

export interface CalibrationCacheOptions {
  /** Where the training runs; default: a worker thread that exits after CALIBRATION_IDLE_EXIT_MS idle. */
  calibrator?: Calibrator;
  waitMs?: number;
}

export class CalibrationCache {
  private readonly entries = new Map<string, { key: string; result: Promise<AnswerCalibrationRecord> }>();
  private readonly calibrator: Calibrator;
  private readonly waitMs: number;

  constructor(options: CalibrationCacheOptions = {}) {
    this.calibrator = options.calibrator ?? createCalibrator(CALIBRATION_IDLE_EXIT_MS);
    this.waitMs = options.waitMs ?? CALIBRATION_WAIT_MS;
  }

  /** The tenant's calibration; rejects with calibrationBusy when it is not ready within `waitMs`. */
  get(tenantId: string, articles: readonly ArticleRecord[], currentThreshold: number): Promise<AnswerCalibrationRecord> {
    const result = this.shared(tenantId, articles, currentThreshold);
    return new Promise<AnswerCalibrationRecord>((resolve, reject) => {
      const timer = setTimeout(() => reject(calibrationBusy(this.waitMs)), this.waitMs);
      result.then(
        (record) => (clearTimeout(timer), resolve(record)),
        (error: unknown) => (clearTimeout(timer), reject(error as Error)),
      );
    });
  }

  close(): Promise<void> {
    return this.calibrator.close();
  }

  private shared(tenantId: string, articles: readonly ArticleRecord[], currentThreshold: number): Promise<AnswerCalibrationRecord> {
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

  private async compute(articles: readonly ArticleRecord[], currentThreshold: number): Promise<AnswerCalibrationRecord> {
    // Only what calibration reads goes to the worker (structured clone), not the records' other fields.
    const knowledge = articles.map(({ id, title, body, questions, locale }) => ({ id, title, body, questions, locale }));
    const calibration = await this.calibrator.calibrate(knowledge, {
      targetConfidentWrong: TARGET_CONFIDENT_WRONG,
      compareAt: currentThreshold,
    });
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
