import { randomUUID } from 'node:crypto';
import { isFinalStatus, type AnswerRepository, type InferenceRequest, type Logger, type SessionRepository } from '@beedesk/runtime';
import type { AnswerEngine } from './engine';

/** How long a claim protects an answer being worked on; a crashed worker's claim expires after it. */
export const CLAIM_TTL_MS = 30_000;

export class AnswerClaimedElsewhere extends Error {
  constructor(answerId: string) {
    super(`answer ${answerId} is being answered by another worker`);
    this.name = 'AnswerClaimedElsewhere';
  }
}

/**
 * Turns one request into one stored answer. Delivery is at least once, so: skip answers already
 * final, claim the answer before working on it (a redelivery to another worker waits for the claim
 * to finish or expire), and write the answer and the assistant turn in one transaction.
 */
export class InferenceWorker {
  readonly workerId = randomUUID();

  constructor(
    private readonly answers: AnswerRepository,
    private readonly sessions: SessionRepository,
    private readonly engine: AnswerEngine,
    private readonly logger: Logger,
  ) {}

  readonly handle = async (request: InferenceRequest): Promise<void> => {
    const { tenantId, answerId } = request;
    const log = this.logger.child({ tenant: tenantId, traceId: request.requestId, answerId });
    if (!(await this.needsAnswer(request))) return;
    if (!(await this.answers.claim(tenantId, answerId, this.workerId, CLAIM_TTL_MS))) throw new AnswerClaimedElsewhere(answerId);
    // Re-read after claiming: a worker that finished meanwhile released its claim in the same
    // transaction that made the answer final.
    const answer = await this.answers.get(tenantId, answerId);
    if (!answer || isFinalStatus(answer.status)) {
      await this.answers.release(tenantId, answerId);
      return;
    }
    const started = performance.now();
    let result;
    try {
      result = await this.engine.answer(request);
    } catch (error) {
      await this.answers.release(tenantId, answerId);
      throw error;
    }
    await this.answers.complete(
      tenantId,
      answer,
      { ...result, status: 'DONE', engine: this.engine.name },
      (multi) =>
        this.sessions.queueTurn(multi, tenantId, { id: answer.sessionId, userId: answer.userId }, {
          role: 'ASSISTANT',
          text: result.text,
          answerId,
        }),
    );
    log.info(
      { ms: Math.round(performance.now() - started), confidence: result.confidence, needsHuman: result.needsHuman, queuedMs: Date.now() - request.enqueuedAt },
      'answered',
    );
  };

  private async needsAnswer(request: InferenceRequest): Promise<boolean> {
    const answer = await this.answers.get(request.tenantId, request.answerId);
    if (!answer) {
      this.logger.warn({ tenant: request.tenantId, answerId: request.answerId }, 'request for an unknown answer; skipped');
      return false;
    }
    return !isFinalStatus(answer.status);
  }
}
