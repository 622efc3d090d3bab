import { execOrThrow, parseJson, TenantStore } from '@beedesk/runtime';
import { HISTORY_RETENTION_MS } from '@beedesk/session/data';

/** Most rated answers listed for staff (the index keeps the newest of them). */
export const RATED_ANSWERS_KEPT = 1000;

export interface FeedbackRecord {
  helpful: boolean;
  comment: string | null;
  at: string;
}

/**
 * Users' verdicts on answers (rateAnswer), kept as long as answers are (7 days), and the tenant's
 * index of rated answers for the staff console. Erasing a user's data deletes their verdicts with their
 * answers (runtime's answerKeysOf); the index then names answers that are gone, which ratedAnswers skips.
 */
export class FeedbackRepository extends TenantStore {
  async get(tenantId: string, answerId: string): Promise<FeedbackRecord | null> {
    return parseJson<FeedbackRecord>(await this.redis.get(this.keys(tenantId).answerFeedback(answerId)));
  }

  async getMany(tenantId: string, answerIds: readonly string[]): Promise<(FeedbackRecord | null)[]> {
    if (answerIds.length === 0) return [];
    const keys = this.keys(tenantId);
    return (await this.redis.mget(answerIds.map((id) => keys.answerFeedback(id)))).map((raw) => parseJson<FeedbackRecord>(raw));
  }

  /** Stores (or replaces) a verdict and puts the answer at the head of the tenant's rated list, in one transaction. */
  async put(tenantId: string, answerId: string, feedback: FeedbackRecord): Promise<void> {
    const keys = this.keys(tenantId);
    await execOrThrow(
      this.redis
        .multi()
        .set(keys.answerFeedback(answerId), JSON.stringify(feedback), 'PX', HISTORY_RETENTION_MS)
        .zadd(keys.ratedAnswers, Date.parse(feedback.at), answerId)
        .zremrangebyrank(keys.ratedAnswers, 0, -RATED_ANSWERS_KEPT - 1)
        .pexpire(keys.ratedAnswers, HISTORY_RETENTION_MS),
    );
  }

  /** Ids of the most recently rated answers, newest first. */
  async recent(tenantId: string, count: number): Promise<string[]> {
    if (count <= 0) return [];
    return this.redis.zrevrange(this.keys(tenantId).ratedAnswers, 0, count - 1);
  }
}
