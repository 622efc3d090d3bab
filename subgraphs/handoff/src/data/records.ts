/** The records the handoff package keeps (see data/conversations.ts for their keys and scripts). */

export type ConversationState = 'BOT' | 'WAITING_FOR_HUMAN' | 'WITH_HUMAN' | 'RESOLVED';
export const CONVERSATION_STATES: readonly ConversationState[] = ['BOT', 'WAITING_FOR_HUMAN', 'WITH_HUMAN', 'RESOLVED'];

export type HandoffReason =
  | 'CUSTOMER_REQUESTED'
  | 'ENGINE_UNSURE'
  | 'OUT_OF_SCOPE'
  | 'ENGINE_FAILED'
  | 'AGENT_PULLED'
  | 'ASSIGNED'
  | 'CLAIMED'
  | 'REASSIGNED'
  | 'RELEASED'
  | 'AGENT_OFFLINE'
  | 'RESOLVED'
  | 'RETURNED_TO_BOT'
  | 'NO_AGENT_ONLINE'
  | 'OUTSIDE_WORKING_HOURS'
  | 'REOPENED';

/** Why no person can be reached now. */
export type Unavailability = 'NO_AGENT_ONLINE' | 'OUTSIDE_WORKING_HOURS';

export type HandoffActorKind = 'CUSTOMER' | 'AGENT' | 'ADMIN' | 'ENGINE' | 'SYSTEM';
export type HandoffSource = 'CUSTOMER_REQUEST' | 'KEYWORD' | 'ENGINE' | 'CONSOLE' | 'AUTO_ASSIGNMENT' | 'PRESENCE' | 'RULES' | 'ASK';

export interface HandoffActor {
  kind: HandoffActorKind;
  id: string | null;
  displayName: string | null;
}

/** A conversation's ownership: stored beside its session (same tenant slot), erased with it. */
export interface ConversationRecord {
  /** The session id. */
  id: string;
  /** The session's customer. */
  userId: string;
  state: ConversationState;
  reason: HandoffReason | null;
  since: string | null;
  assigneeId: string | null;
  /** The assignee's display name at assignment (what the customer sees). */
  assigneeName: string | null;
  team: string | null;
  waitingSince: string | null;
  lastCustomerMessageAt: string | null;
  /** en or zh-CN: the language of messages to the customer. */
  locale: string | null;
  /**
   * Set on the conversation of a staff log entry (HandoffEvent.conversation): its other reads (assignee,
   * place in the line) are then shared by every console this process delivers that entry to.
   */
  asOfCursor?: string;
  /**
   * While it waits: that nobody can be reached was told to the customer (and why), so the assigner's
   * re-check (HandoffActions.recheckWaiting) tells them once. Cleared by every transition.
   */
  toldUnavailable?: Unavailability | null;
  /** Consecutive unsure answers while with the bot (the ENGINE_UNSURE rule). */
  unsureStreak: number;
}

/** One ownership transition (the audit trail). */
export interface AuditRecord {
  seq: number;
  at: string;
  from: ConversationState;
  to: ConversationState;
  reason: HandoffReason;
  source: HandoffSource;
  actor: HandoffActor;
  assigneeId: string | null;
  assigneeName: string | null;
  comment: string | null;
}

export interface NoteRecord {
  id: string;
  text: string;
  at: string;
  author: HandoffActor;
}

export interface AgentRecord {
  id: string;
  displayName: string;
  /** The agent's own capacity; null: the tenant's default. */
  capacity: number | null;
  teams: string[];
  lastSeenAt: string | null;
}

export interface MessageRecord {
  turnSeq: number;
  text: string;
  at: string;
  author: HandoffActor;
}

export interface TypingRecord {
  actor: HandoffActor;
  typing: boolean;
  expiresAt: string | null;
}

export type HandoffEventKind =
  'STATE_CHANGED' | 'CUSTOMER_MESSAGE' | 'AGENT_MESSAGE' | 'NOTE_ADDED' | 'TYPING' | 'AGENT_CHANGED' | 'RESYNC_REQUIRED';

/** One entry of a tenant's handoff event log. */
export interface HandoffEventRecord {
  cursor: string;
  kind: HandoffEventKind;
  at: string;
  conversationId: string | null;
  transition: AuditRecord | null;
  message: MessageRecord | null;
  note: NoteRecord | null;
  typing: TypingRecord | null;
  agentId: string | null;
}
