import { codedError, ErrorCode, forbidden, hasRole, isSafeId, isStaff, mayAccess, notFound } from '@beedesk/runtime';
import { sessionIdTenancy, type SessionRecord } from '@beedesk/session/data';
import type { HandoffContext } from './context';
import type { ConversationRecord } from './data';

export function requireStaff(context: Pick<HandoffContext, 'caller'>, what: string): void {
  if (!isStaff(context.caller)) throw forbidden(`Only the staff of this tenant may ${what}.`);
}

export function requireAdmin(context: Pick<HandoffContext, 'caller'>, what: string): void {
  if (!hasRole(context.caller, 'admin')) throw forbidden(`Only an admin of this tenant may ${what}.`);
}

/**
 * The session, when the caller may act on it: FORBIDDEN for another tenant's id (told by its tenant tag,
 * without reading that tenant's keys) or another customer's session, NOT_FOUND when unknown.
 */
export async function accessibleSession(context: HandoffContext, sessionId: string): Promise<SessionRecord> {
  if (sessionIdTenancy(context.internalSecret, context.caller.tenantId, sessionId) === 'other') {
    throw forbidden('This session belongs to another tenant.');
  }
  const session = isSafeId(sessionId) ? await context.sessions.get(context.caller.tenantId, sessionId) : null;
  if (!session) throw notFound('Session', sessionId);
  if (!mayAccess(context.caller, session)) throw forbidden('This session belongs to another user.');
  return session;
}

/**
 * A session id staff may act on without reading the session (staff may access every session of their
 * tenant): FORBIDDEN for another tenant's id, NOT_FOUND for one that cannot be an id. Whether it exists
 * is then up to the write that uses it.
 */
export function staffSessionId(context: HandoffContext, sessionId: string): string {
  if (sessionIdTenancy(context.internalSecret, context.caller.tenantId, sessionId) === 'other') {
    throw forbidden('This session belongs to another tenant.');
  }
  if (!isSafeId(sessionId)) throw notFound('Session', sessionId);
  return sessionId;
}

/** A conversation's ownership record, or the initial BOT one of a session that never left the bot. */
export async function conversationOf(context: HandoffContext, session: SessionRecord): Promise<ConversationRecord> {
  return (
    (await context.store.conversation(context.caller.tenantId, session.id)) ?? {
      id: session.id,
      userId: session.userId,
      state: 'BOT',
      reason: null,
      since: null,
      assigneeId: null,
      assigneeName: null,
      team: null,
      waitingSince: null,
      lastCustomerMessageAt: null,
      locale: null,
      unsureStreak: 0,
    }
  );
}

/** The error for a transition that did not happen. */
export function transitionRefused(status: 'CONFLICT' | 'NOT_ASSIGNEE' | 'CAPACITY', from: string): Error {
  if (status === 'CAPACITY')
    return codedError(ErrorCode.CAPACITY_REACHED, 'The agent holds as many conversations as their capacity allows.');
  if (status === 'NOT_ASSIGNEE') return forbidden('Only the agent this conversation is assigned to, or an admin, may do that.');
  return codedError(ErrorCode.CONFLICT, `The conversation is ${from}: that is not possible now.`, { state: from });
}
