import { z } from 'zod';

/** Settings of the answer service beside the common ones. */
export const answerSettings = z.object({
  /** How often the ask-outbox sweeper looks for questions Kafka has not acknowledged. */
  OUTBOX_SWEEP_INTERVAL_MS: z.coerce.number().int().min(50).default(5_000),
  /** Age at which an unacknowledged question is sent again (an ask's own send is bounded by 5 s). */
  OUTBOX_RESEND_AFTER_MS: z.coerce.number().int().min(50).default(10_000),
  /** Age at which a question that never reached Kafka is answered FAILED (reason NOT_QUEUED). */
  OUTBOX_GIVE_UP_MS: z.coerce.number().int().min(100).default(120_000),
  /** How long the producer gathers asks into one Kafka request. */
  KAFKA_PRODUCER_LINGER_MS: z.coerce.number().int().min(0).max(10_000).default(0),
});
export type AnswerSettings = z.infer<typeof answerSettings>;
