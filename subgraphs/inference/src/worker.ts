import { randomUUID } from 'node:crypto';
import {
  ATTR,
  CoalescingWriter,
  failSpan,
  joinText,
  observeWithExemplar,
  SpanKind,
  tracer,
  withActiveSpan,
  mayLogText,
  NO_EVENTS,
  requestLogger,
  type AnswerEventKind,
  type Delivery,
  type EventPublisher,
  type InferenceRequest,
  type Logger,
} from '@beedesk/runtime';
import { isFinalStatus, type AnswerOutcome, type AnswerRecord, type AnswerRepository } from '@beedesk/answer/data';
import type { AnswerEngine } from './engines/types';
import type { InferenceMetrics } from './metrics';
import { EngineFallbackError, fallbackText } from './resilience';

export interface WorkerOptions {
  /** How long a claim protects an answer; refreshed every third of it while working. */
  claimTtlMs: number;
  /** Deliveries of one request before it is given up as FAILED (instead of blocking its partition). */
  maxAttempts: number;
  /**
   * Longest an engine may work on one answer: then the call is aborted and the answer ends as
   * FALLBACK, so an engine that hangs (alive, not progressing) never holds a claim or a partition forever.
   */
  answerDeadlineMs: number;
}

/** Waiting answers told their new position after each answer finishes. */
const POSITION_UPDATES = 10;

export const DEFAULT_WORKER_OPTIONS: WorkerOptions = { claimTtlMs: 15_000, maxAttempts: 5, answerDeadlineMs: 120_000 };

/** Picks the engine of a tenant (EngineRouter in the service). */
export interface EngineSelector {
  engineFor(tenantId: string): AnswerEngine;
}

/** Another worker holds our answer's claim, or the answer closed: stop writing. */
class ClaimLost extends Error {}

/** We lost the claim but nobody finishes the answer: the delivery must not be committed (redelivered). */
export class AnswerNotSettled extends Error {
  constructor(answerId: string) {
    super(`answer ${answerId} is neither final nor held by a live worker; leaving it to a redelivery`);
    this.name = 'AnswerNotSettled';
  }
}

/** What a question given up on is answered with. */
const failedOutcome = (question: string): AnswerOutcome => ({
  text: fallbackText(question),
  status: 'FAILED',
  sourceIds: [],
  confidence: null,
  needsHuman: true,
  engine: null,
});

const NO_DELIVERY: Delivery = { heartbeat: async () => undefined };

export class AnswerClaimedElsewhere extends Error {
  constructor(answerId: string) {
    super(`answer ${answerId} is being answered by another worker`);
    this.name = 'AnswerClaimedElsewhere';
  }
}

/**
 * Turns one request into one stored answer. Delivery is at least once, so the worker:
 * skips answers already final; claims the answer (waiting out another worker's claim, which
 * lapses when that worker dies) and keeps the claim alive while working; continues a stream an
 * earlier worker started instead of repeating it; and writes answer plus assistant turn only
 * while still holding the claim (a Redis script), so nothing is answered twice.
 */
export class InferenceWorker {
  readonly workerId = randomUUID();
  private readonly options: WorkerOptions;

  constructor(
    private readonly answers: AnswerRepository,
    private readonly engines: EngineSelector,
    private readonly logger: Logger,
    private readonly events: EventPublisher = NO_EVENTS,
    private readonly metrics?: InferenceMetrics,
    options: Partial<WorkerOptions> = {},
    /** After an answer is stored and announced: the human-handoff rules (unsure, out of scope, failed). */
    private readonly onAnswered?: (request: InferenceRequest, answer: AnswerRecord) => Promise<void>,
  ) {
    this.options = { ...DEFAULT_WORKER_OPTIONS, ...options };
  }

  readonly handle = async (request: InferenceRequest, delivery: Delivery = NO_DELIVERY): Promise<void> => {
    const { tenantId, answerId } = request;
    const { claimTtlMs } = this.options;
    // At debug level for a tenant with debug logging on (LOG_DEBUG_TENANTS), as every request logger.
    const log = requestLogger(this.logger, tenantId, request.requestId).child({ answerId });
    const initial = await this.answers.get(tenantId, answerId);
    if (!initial) return log.warn('request for an unknown answer; skipped');
    if (isFinalStatus(initial.status)) return;
    if (!(await this.claim(request, delivery))) return;

    const heartbeat = setInterval(() => {
      // Takes the claim again if it lapsed while nobody held it (Redis stalled, the loop blocked).
      this.answers
        .refreshClaim(tenantId, answerId, this.workerId, claimTtlMs)
        .catch((err: unknown) => log.warn({ err }, 'claim refresh failed'));
      delivery.heartbeat().catch(() => undefined);
    }, claimTtlMs / 3);
    heartbeat.unref();
    let attempts = 0;
    try {
      const answer = await this.answers.get(tenantId, answerId);
      // Re-read after claiming: a worker that finished meanwhile dropped its claim as it wrote.
      if (!answer || isFinalStatus(answer.status)) return await this.answers.release(tenantId, answerId, this.workerId);
      const counted = await this.answers.recordAttempt(tenantId, answerId, this.workerId, claimTtlMs);
      if (counted === null) throw new ClaimLost();
      attempts = counted;
      if (attempts > this.options.maxAttempts) {
        log.error({ attempts: this.options.maxAttempts }, 'giving up on this question');
        const { seq } = await this.answers.streamProgress(tenantId, answerId);
        await this.finish(request, answer, failedOutcome(request.question), 'ERROR', seq, log);
        return;
      }
      await this.answer(request, answer, log);
    } catch (error) {
      if (error instanceof ClaimLost) {
        // The fence at work (e.g. this worker was cut off and its claim lapsed): said, so it can be counted.
        log.info('a write under a claim this worker no longer holds was refused');
        return await this.settleLostClaim(tenantId, answerId, log);
      }
      if (attempts >= this.options.maxAttempts) {
        // The last delivery the queue may make: answer FAILED rather than leave the question hanging.
        log.error({ err: error, attempts }, 'giving up on this question');
        const { seq } = await this.answers.streamProgress(tenantId, answerId);
        const current = await this.answers.get(tenantId, answerId);
        if (current && !isFinalStatus(current.status)) {
          await this.finish(request, current, failedOutcome(request.question), 'ERROR', seq, log);
        }
        return;
      }
      await this.answers.release(tenantId, answerId, this.workerId).catch(() => undefined);
      throw error;
    } finally {
      clearInterval(heartbeat);
    }
  };

  /**
   * After a fenced write was refused: fine to let the delivery be committed only when the answer is
   * final (or erased) or another worker holds its claim (that worker has its own delivery and
   * finishes it). Otherwise throw, so the queue redelivers instead of losing the answer.
   */
  private async settleLostClaim(tenantId: string, answerId: string, log: Logger): Promise<void> {
    const current = await this.answers.get(tenantId, answerId);
    if (!current || isFinalStatus(current.status)) return;
    const holder = await this.answers.claimHolder(tenantId, answerId);
    if (holder !== null && holder !== this.workerId) return log.warn('lost the claim to another worker; it finishes this answer');
    throw new AnswerNotSettled(answerId);
  }

  private async answer(request: InferenceRequest, answer: AnswerRecord, log: Logger): Promise<void> {
    const { tenantId, answerId, sessionId } = request;
    const engine = this.engines.engineFor(tenantId);
    const progress = await this.answers.streamProgress(tenantId, answerId);
    if (progress.seq > 0) log.info({ resumedChars: progress.text.length }, 'continuing a stream another worker started');
    let lastSeq = progress.seq;
    const started = performance.now();
    const deadline = new AbortController();
    // The engine call's span (gen_ai conventions for a remote model; the built-in engine is INTERNAL too):
    // never the question or the answer, only how it went.
    const spanName = engine.name === 'llm' ? 'chat' : `answer ${engine.name}`;
    const span = tracer('@beedesk/inference').startSpan(spanName, {
      kind: engine.name === 'llm' ? SpanKind.CLIENT : SpanKind.INTERNAL,
      attributes: {
        [ATTR.engine]: engine.name,
        [ATTR.tenant]: tenantId,
        [ATTR.answerId]: answerId,
        ...(engine.name === 'llm' ? { 'gen_ai.operation.name': 'chat' } : {}),
      },
    });
    let tokens = 0;
    // Pieces that come while a write is in flight go together in the next one (CoalescingWriter).
    const stream = new CoalescingWriter(joinText, async (delta: string) => {
      if (deadline.signal.aborted) throw new ClaimLost(); // a late token of an abandoned call: write nothing
      const seq = await this.answers.appendStream(tenantId, answer, this.workerId, delta, this.options.claimTtlMs);
      if (seq === null) throw new ClaimLost();
      lastSeq = seq;
      await this.events.publishAnswerEvent(tenantId, { answerId, sessionId, seq: lastSeq, kind: 'TOKEN', delta, queuePosition: null });
    });
    const onToken = async (delta: string) => {
      if (tokens++ === 0) {
        span.addEvent('first token');
        if (lastSeq === 0 && this.metrics) {
          observeWithExemplar(this.metrics.firstTokenSeconds, { engine: engine.name }, (Date.now() - request.enqueuedAt) / 1000);
        }
      }
      if (deadline.signal.aborted) throw new ClaimLost();
      stream.add(delta);
    };
    const answered = async () => {
      const result = await engine.answer(request, { resumeFrom: progress.text, onToken, signal: deadline.signal });
      await stream.flush();
      return result;
    };
    let outcome: AnswerOutcome;
    let kind: AnswerEventKind;
    try {
      const result = await withActiveSpan(span, () => this.withinDeadline(deadline, answered()));
      outcome = { ...result, status: 'DONE', engine: engine.name };
      kind = 'DONE';
    } catch (thrown) {
      // No token event may follow the answer's final one.
      await stream.settled();
      failSpan(span, thrown, spanName, { [ATTR.tenant]: tenantId });
      span.setAttribute('beedesk.engine.tokens', tokens);
      span.end();
      const timedOut = deadline.signal.aborted && !(thrown instanceof ClaimLost);
      if (timedOut) {
        log.error(
          { engine: engine.name, deadlineMs: this.options.answerDeadlineMs },
          'engine exceeded the answer deadline; answering with the fallback',
        );
      }
      const error = timedOut ? new EngineFallbackError(`no answer within ${this.options.answerDeadlineMs} ms`) : thrown;
      if (!(error instanceof EngineFallbackError)) throw error;
      log.warn({ reason: error.reason, engine: engine.name }, 'engine unavailable; answering with the fallback');
      outcome = {
        text: fallbackText(request.question),
        status: 'FALLBACK',
        sourceIds: [],
        confidence: null,
        needsHuman: true,
        engine: engine.name,
      };
      kind = 'FALLBACK';
    }
    if (span.isRecording()) {
      span.setAttribute('beedesk.engine.tokens', tokens);
      span.setAttribute('beedesk.answer.status', outcome.status);
      span.end();
    }
    if (this.metrics) observeWithExemplar(this.metrics.engineSeconds, { engine: engine.name }, (performance.now() - started) / 1000);
    await this.finish(request, answer, outcome, kind, lastSeq, log);
  }

  /**
   * Races the engine call against the answer deadline: at the deadline the call is aborted (its signal)
   * and abandoned even if it ignores the signal; whatever it still streams is refused by onToken.
   */
  private async withinDeadline<T>(deadline: AbortController, call: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        deadline.abort(new Error('answer deadline'));
        reject(new Error('answer deadline'));
      }, this.options.answerDeadlineMs);
    });
    call.catch(() => undefined);
    try {
      return await Promise.race([call, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Writes the final answer under our claim (taken again if it lapsed and nobody holds it), then announces it. */
  private async finish(
    request: InferenceRequest,
    answer: AnswerRecord,
    outcome: AnswerOutcome,
    kind: AnswerEventKind,
    lastSeq: number,
    log: Logger,
  ): Promise<void> {
    const { tenantId, answerId, sessionId } = request;
    const done = await this.answers.completeClaimed(tenantId, answer, outcome, this.workerId, this.options.claimTtlMs);
    if (!done) throw new ClaimLost();
    this.metrics?.answers.inc({ status: done.status });
    if (done.needsHuman) await this.answers.noteUnsure(tenantId, answerId, new Date(done.completedAt ?? Date.now()));
    await this.events.publishAnswerEvent(tenantId, { answerId, sessionId, seq: lastSeq + 1, kind, delta: null, queuePosition: null });
    await this.events.publishActivity(tenantId, {
      kind: 'ANSWER_DONE',
      sessionId,
      answerId,
      at: done.completedAt ?? new Date().toISOString(),
    });
    await this.announcePositions(tenantId, log);
    if (this.onAnswered) {
      // The answer stands whatever happens here; a failed handoff check is logged, the next answer checks again.
      await this.onAnswered(request, done).catch((err: unknown) => log.warn({ err }, 'could not apply the handoff rules'));
    }
    log.info(
      { status: done.status, confidence: done.confidence, needsHuman: done.needsHuman, queuedMs: Date.now() - request.enqueuedAt },
      'answered',
    );
    if (mayLogText(log)) log.debug({ question: request.question, answer: done.text }, 'answer text');
  }

  /**
   * The line moved: tell the next waiting askers of this tenant their new position (QUEUED, seq 0,
   * the latest position wins). Bounded: askers further back hear on their way up.
   */
  private async announcePositions(tenantId: string, log: Logger): Promise<void> {
    try {
      for (const waiting of await this.answers.nextWaiting(tenantId, POSITION_UPDATES)) {
        await this.events.publishAnswerEvent(tenantId, {
          ...waiting,
          seq: 0,
          kind: 'QUEUED',
          delta: null,
          queuePosition: waiting.position,
        });
      }
    } catch (error) {
      log.warn({ err: error }, 'could not announce queue positions');
    }
  }

  /** Claims the answer, waiting out another live worker's claim; false when it became final meanwhile. */
  private async claim(request: InferenceRequest, delivery: Delivery): Promise<boolean> {
    const { tenantId, answerId } = request;
    const deadline = Date.now() + this.options.claimTtlMs * 1.5;
    for (;;) {
      const claimed = await this.answers.claim(tenantId, answerId, this.workerId, this.options.claimTtlMs);
      if (claimed === 'ours') return true;
      if (claimed === 'closed') return false;
      if (Date.now() > deadline) throw new AnswerClaimedElsewhere(answerId);
      await delivery.heartbeat();
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
