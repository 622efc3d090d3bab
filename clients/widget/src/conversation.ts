/**
 * The conversation as the widget shows it, and how answer events and snapshots change it. Pure logic
 * (no DOM, no network), so the resume rules are unit-tested: a TOKEN is appended only when its seq
 * follows the last one shown; earlier seqs (duplicates after a reconnect) are dropped; later ones wait
 * until the gap is filled by a snapshot (`Answer.streamed`: the stored text up to a seq) or by the final
 * answer. The text shown is therefore always a prefix of the stored answer, and equal to it once final.
 */

export type MessageStatus = 'sending' | 'queued' | 'streaming' | 'done' | 'fallback' | 'failed';

export interface Source {
  id: string;
  title: string;
  body: string;
}

export interface Message {
  /** The answer id for assistant messages; a client id for questions. */
  id: string;
  role: 'user' | 'assistant' | 'agent' | 'system';
  text: string;
  status: MessageStatus;
  /** Assistant messages: seq of the last TOKEN included in `text`. */
  lastSeq: number;
  /** TOKENs that arrived ahead of a gap, by seq. */
  early: Record<number, string>;
  queuePosition: number | null;
  sources: Source[];
  needsHuman: boolean;
  feedback: boolean | null;
  /** Agent messages: who wrote it. */
  author?: string;
}

export interface StoredAnswer {
  id: string;
  status: 'QUEUED' | 'ANSWERING' | 'DONE' | 'FALLBACK' | 'FAILED' | 'WITH_HUMAN';
  text: string;
  needsHuman: boolean;
  sources: Source[];
  streamed?: { text: string; seq: number } | null;
  feedback?: { helpful: boolean } | null;
}

export type ConversationState = 'BOT' | 'WAITING_FOR_HUMAN' | 'WITH_HUMAN' | 'RESOLVED';

/** A human-handoff update on the answer stream (kinds AGENT_MESSAGE, AGENT_TYPING, HANDOFF_STATE, WAITING_POSITION, HANDOFF_NOTICE). */
export interface ConversationUpdate {
  id: string;
  state: ConversationState;
  reason?: string | null;
  agentName?: string | null;
  text?: string | null;
  typing?: boolean | null;
  waitingPosition?: number | null;
  notice?: string | null;
}

export const HANDOFF_KINDS = ['AGENT_MESSAGE', 'AGENT_TYPING', 'HANDOFF_STATE', 'WAITING_POSITION', 'HANDOFF_NOTICE'] as const;
export type HandoffKind = (typeof HANDOFF_KINDS)[number];

export interface AnswerEvent {
  answerId: string;
  seq: number;
  kind: 'QUEUED' | 'TOKEN' | 'DONE' | 'FALLBACK' | 'ERROR' | HandoffKind;
  delta?: string | null;
  queuePosition?: number | null;
  answer?: Omit<StoredAnswer, 'streamed' | 'feedback'> | null;
  handoff?: ConversationUpdate | null;
}

export const isHandoffEvent = (event: AnswerEvent): event is AnswerEvent & { kind: HandoffKind } =>
  (HANDOFF_KINDS as readonly string[]).includes(event.kind);

export const isFinal = (message: Message): boolean =>
  message.status === 'done' || message.status === 'fallback' || message.status === 'failed';

export function assistantMessage(answerId: string, queuePosition: number | null = null): Message {
  return {
    id: answerId,
    role: 'assistant',
    text: '',
    status: 'queued',
    lastSeq: 0,
    early: {},
    queuePosition,
    sources: [],
    needsHuman: false,
    feedback: null,
  };
}

export function textMessage(id: string, role: Message['role'], text: string, author?: string): Message {
  return { ...assistantMessage(id), role, text, status: 'done', author };
}

const finalStatus = (status: StoredAnswer['status']): MessageStatus | null =>
  status === 'DONE' ? 'done' : status === 'FALLBACK' ? 'fallback' : status === 'FAILED' ? 'failed' : null;

/** Appends the waiting early TOKENs that now follow the last seq shown. */
function drain(message: Message): Message {
  let { text, lastSeq } = message;
  const early = { ...message.early };
  while (early[lastSeq + 1] !== undefined) {
    text += early[lastSeq + 1];
    delete early[lastSeq + 1];
    lastSeq++;
  }
  for (const seq of Object.keys(early)) if (Number(seq) <= lastSeq) delete early[Number(seq)];
  return { ...message, text, lastSeq, early };
}

/** The message after one answer event (the message of `event.answerId`, or a new one). */
export function applyEvent(message: Message | undefined, event: AnswerEvent): Message {
  const current = message ?? assistantMessage(event.answerId);
  if (isFinal(current)) return current;
  switch (event.kind) {
    case 'QUEUED':
      return { ...current, queuePosition: event.queuePosition ?? current.queuePosition };
    case 'TOKEN': {
      if (event.seq <= current.lastSeq || event.delta == null) return current;
      const streaming = { ...current, status: 'streaming' as const, queuePosition: null };
      return drain({ ...streaming, early: { ...streaming.early, [event.seq]: event.delta } });
    }
    default:
      return event.answer ? applySnapshot(current, { ...event.answer, streamed: null }) : { ...current, status: 'failed' };
  }
}

/** The message after reading the stored answer (on resume, after a reconnect or a gap). */
export function applySnapshot(message: Message | undefined, answer: StoredAnswer): Message {
  const current = message ?? assistantMessage(answer.id);
  const final = finalStatus(answer.status);
  if (final) {
    return {
      ...current,
      text: answer.text,
      status: final,
      early: {},
      queuePosition: null,
      sources: answer.sources,
      needsHuman: answer.needsHuman,
      feedback: answer.feedback ? answer.feedback.helpful : current.feedback,
    };
  }
  if (isFinal(current)) return current;
  const streamed = answer.streamed;
  if (!streamed || streamed.seq <= current.lastSeq) return current;
  return drain({ ...current, text: streamed.text, lastSeq: streamed.seq, status: 'streaming', queuePosition: null });
}

/** True while a message waits for TOKENs past a gap: the widget then reads the stored answer. */
export const hasGap = (message: Message): boolean => Object.keys(message.early).length > 0;
