import { randomUUID } from 'node:crypto';
import type { HandoffActions } from '@beedesk/handoff/data';
import { type EventPublisher, type InferenceQueue, type Logger } from '@beedesk/runtime';
import { isFinalStatus, type AnswerRepository } from './data';
import type { AnswerSettings } from './config';

/** Outbox entries handled per tenant and sweep, so one tenant's backlog cannot stall the sweep. */
const BATCH = 200;
/** The per-tenant sweep lock outlives one slow send (the producer's 5 s bound) even with a short interval. */
const LOCK_MIN_MS = 10_000;

/** What a question that never reached the queue is answered with (stored with reason NOT_QUEUED). */
export const NOT_QUEUED_TEXT = 'Your question could not be passed on to be answered; please ask it again.';
export const NOT_QUEUED_REASON = 'NOT_QUEUED';

export type OutboxSettings = Pick<AnswerSettings, 'OUTBOX_SWEEP_INTERVAL_MS' | 'OUTBOX_RESEND_AFTER_MS' | 'OUTBOX_GIVE_UP_MS'>;

export interface OutboxSweeper {
  /** One pass over every tenant with outbox entries (also what the timer runs). */
  sweep(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The recovery half of `ask`'s outbox: an ask writes its answer and an outbox entry atomically, then
 * sends to Kafka and removes the entry once acknowledged. An entry still there after
 * OUTBOX_RESEND_AFTER_MS (the ask failed, timed out, or its process died) is sent again (the worker
 * de-duplicates by answer id); one older than OUTBOX_GIVE_UP_MS becomes FAILED (only while QUEUED and
 * unclaimed). So every QUEUED answer reaches the queue or fails with a reason within a bounded time.
 * A failed answer is an engine failure for the tenant's handoff rules (`onEngineFailure`), as when the
 * engine itself fails: with `handoff`, the conversation goes to a person when the rules say so.
 */
export function startOutboxSweeper(
  answers: AnswerRepository,
  queue: InferenceQueue,
  events: EventPublisher,
  logger: Logger,
  settings: OutboxSettings,
  handoff: HandoffActions | null = null,
): OutboxSweeper {
  const holder = randomUUID();
  const log = logger.child({ component: 'outbox-sweeper' });
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  async function sweepTenant(tenantId: string, now: number): Promise<void> {
    if (!(await answers.lockOutboxSweep(tenantId, holder, Math.max(settings.OUTBOX_SWEEP_INTERVAL_MS, LOCK_MIN_MS)))) return;
    try {
      await sweepEntries(tenantId, now);
    } finally {
      await answers.unlockOutboxSweep(tenantId, holder);
    }
  }

  async function sweepEntries(tenantId: string, now: number): Promise<void> {
    const due = await answers.outboxDue(tenantId, now - settings.OUTBOX_RESEND_AFTER_MS, BATCH);
    if (due.length === 0 && (await answers.outboxSize(tenantId)) === 0) {
      await answers.forgetOutboxTenant(tenantId, now - settings.OUTBOX_RESEND_AFTER_MS);
      return;
    }
    for (const entry of due) {
      const tlog = log.child({ tenant: tenantId, answerId: entry.answerId });
      const answer = await answers.get(tenantId, entry.answerId);
      if (!answer || isFinalStatus(answer.status) || !entry.request) {
        await answers.outboxAck(tenantId, entry.answerId);
        continue;
      }
      if (now - entry.since >= settings.OUTBOX_GIVE_UP_MS) {
        const failed = await answers.failIfQueued(tenantId, answer, NOT_QUEUED_TEXT, NOT_QUEUED_REASON);
        // Not QUEUED any more or claimed: a worker has it, so it did reach the queue.
        if (!failed) {
          await answers.outboxAck(tenantId, entry.answerId);
          continue;
        }
        tlog.error({ reason: NOT_QUEUED_REASON, ageMs: now - entry.since }, 'question never reached the queue; answered FAILED');
        await events
          .publishAnswerEvent(tenantId, {
            answerId: answer.id,
            sessionId: answer.sessionId,
            seq: 1,
            kind: 'ERROR',
            delta: null,
            queuePosition: null,
          })
          .catch((err: unknown) => tlog.warn({ err }, 'could not publish a live event'));
        if (handoff) {
          await handoff
            .afterAnswerFailed(tenantId, { sessionId: answer.sessionId, userId: answer.userId, question: answer.question })
            .catch((err: unknown) => tlog.warn({ err }, 'could not apply the handoff rules to a failed answer'));
        }
        continue;
      }
      try {
        await queue.enqueue(entry.request);
        await answers.outboxAck(tenantId, entry.answerId);
        tlog.warn({ ageMs: now - entry.since }, 'sent an unacknowledged question to the queue again');
      } catch (err) {
        tlog.warn({ err }, 'could not send an unacknowledged question yet; will retry');
        return; // the queue is down: the next sweep retries, the rest of this tenant's entries wait
      }
    }
  }

  async function sweep(): Promise<void> {
    const now = Date.now();
    for (const tenantId of await answers.outboxTenants()) {
      if (stopped) return;
      await sweepTenant(tenantId, now).catch((err: unknown) => log.warn({ err, tenant: tenantId }, 'outbox sweep failed'));
    }
  }

  let busy = false;
  const tick = (): Promise<void> => {
    if (busy) return running;
    busy = true;
    running = sweep()
      .catch((err: unknown) => log.warn({ err }, 'outbox sweep failed'))
      .finally(() => (busy = false));
    return running;
  };
  const timer = setInterval(() => void tick(), settings.OUTBOX_SWEEP_INTERVAL_MS);
  timer.unref();

  return {
    sweep: tick,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running.catch(() => undefined);
    },
  };
}
