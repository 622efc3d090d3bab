import { isSafeId, isTenantId } from '../ids';

/**
 * One question for the inference side. It carries the recent history so the worker needs no
 * extra read, and the tenant in the message itself (never inferred), so a worker always writes
 * to the right tenant's keys.
 */
export interface InferenceRequest {
  v: 1;
  tenantId: string;
  sessionId: string;
  userId: string;
  answerId: string;
  question: string;
  /** The session's last turns (the session package's TurnRole values), as the message carries them. */
  history: { role: 'USER' | 'ASSISTANT' | 'AGENT'; text: string }[];
  requestId: string;
  enqueuedAt: number;
}

/** Where `ask` puts questions: Kafka in real mode, an in-process queue in the embedded default. */
export interface InferenceQueue {
  enqueue(request: InferenceRequest): Promise<void>;
  close(): Promise<void>;
}

/** What the queue offers a handler while it works on one request. */
export interface Delivery {
  /** Tells the broker this consumer is alive during long work (no-op in process). */
  heartbeat(): Promise<void>;
}

export type InferenceHandler = (request: InferenceRequest, delivery: Delivery) => Promise<void>;

/** What the inference side consumes from; lag counts requests not yet done, per partition. */
export interface InferenceConsumer {
  start(handler: InferenceHandler): Promise<void>;
  stop(): Promise<void>;
  lagByPartition(): Promise<Record<number, number>>;
}

/** Requests of one session are answered in order; sessions spread out. */
export const orderingKey = (request: Pick<InferenceRequest, 'tenantId' | 'sessionId'>): string =>
  `${request.tenantId}/${request.sessionId}`;

export function parseInferenceRequest(raw: string): InferenceRequest | null {
  try {
    const value = JSON.parse(raw) as Partial<InferenceRequest>;
    // Ids become Redis keys and channels on the worker: the same checks as at the API.
    const ok =
      value.v === 1 &&
      typeof value.tenantId === 'string' &&
      isTenantId(value.tenantId) &&
      typeof value.sessionId === 'string' &&
      isSafeId(value.sessionId) &&
      typeof value.userId === 'string' &&
      typeof value.answerId === 'string' &&
      isSafeId(value.answerId) &&
      typeof value.question === 'string' &&
      Array.isArray(value.history);
    return ok ? (value as InferenceRequest) : null;
  } catch {
    return null;
  }
}
