import { forbidden, isSafeId, mayAccess, notFound } from '@beedesk/runtime';
import { type SessionRecord } from '@beedesk/session/data';
import type { AnswerContext } from './context';

/** The session, when the caller may ask in it or follow it: NOT_FOUND when unknown, FORBIDDEN when another user's. */
export async function accessibleSession(context: Pick<AnswerContext, 'caller' | 'sessions'>, sessionId: string): Promise<SessionRecord> {
  const session = isSafeId(sessionId) ? await context.sessions.get(context.caller.tenantId, sessionId) : null;
  if (!session) throw notFound('Session', sessionId);
  if (!mayAccess(context.caller, session)) throw forbidden('This session belongs to another user.');
  return session;
}
