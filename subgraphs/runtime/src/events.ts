/**
 * Live events. Publishers (answer, inference) and subscribers (the answer subgraph's subscription
 * resolvers, on any replica) meet on per-tenant channels, so an event published on one replica
 * reaches subscribers on every replica, and a tenant's channel carries only that tenant's events.
 */
export type AnswerEventKind = 'QUEUED' | 'TOKEN' | 'DONE' | 'FALLBACK' | 'ERROR';

export interface AnswerEventMessage {
  answerId: string;
  sessionId: string;
  /** Per answer, from 0 (QUEUED) upwards, so a client can order and de-duplicate. */
  seq: number;
  kind: AnswerEventKind;
  /** TOKEN: the text appended to the answer. */
  delta: string | null;
  /** QUEUED: how many of the tenant's questions are ahead. */
  queuePosition: number | null;
}

export type ActivityKind = 'SESSION_STARTED' | 'QUESTION_ASKED' | 'ANSWER_DONE';

export interface ActivityEventMessage {
  kind: ActivityKind;
  sessionId: string;
  answerId: string | null;
  at: string;
}

export interface EventPublisher {
  publishAnswerEvent(tenantId: string, event: AnswerEventMessage): Promise<void>;
  publishActivity(tenantId: string, event: ActivityEventMessage): Promise<void>;
}

/** For services and tests that run without live events. */
export const NO_EVENTS: EventPublisher = {
  publishAnswerEvent: async () => undefined,
  publishActivity: async () => undefined,
};
