/**
 * Live events. Publishers (answer, inference) and subscribers (the answer subgraph's subscription
 * resolvers, on any replica) meet on per-tenant channels, so an event published on one replica
 * reaches subscribers on every replica, and a tenant's channel carries only that tenant's events.
 */
export type AnswerEventKind =
  | 'QUEUED'
  | 'TOKEN'
  | 'DONE'
  | 'FALLBACK'
  | 'ERROR'
  | 'AGENT_MESSAGE'
  | 'AGENT_TYPING'
  | 'HANDOFF_STATE'
  | 'WAITING_POSITION'
  | 'HANDOFF_NOTICE';

/** A human-handoff update for the customer (AnswerEvent.handoff): customer-safe, display names only. */
export interface ConversationUpdateMessage {
  id: string;
  at: string;
  state: 'BOT' | 'WAITING_FOR_HUMAN' | 'WITH_HUMAN' | 'RESOLVED';
  reason: string | null;
  agentName: string | null;
  text: string | null;
  turnSeq: number | null;
  typing: boolean | null;
  typingExpiresAt: string | null;
  waitingPosition: number | null;
  notice: string | null;
}

/** On a tenant's handoff channel: the log grew to `cursor`, or (cursor null) the line changed. */
export interface HandoffPoke {
  cursor: string | null;
}

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
  /** Human-handoff kinds: the update. */
  handoff?: ConversationUpdateMessage | null;
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
  publishHandoff(tenantId: string, poke: HandoffPoke): Promise<void>;
}

/** For services and tests that run without live events. */
export const NO_EVENTS: EventPublisher = {
  publishAnswerEvent: async () => undefined,
  publishActivity: async () => undefined,
  publishHandoff: async () => undefined,
};
