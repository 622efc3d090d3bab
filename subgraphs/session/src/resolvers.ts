import { badInput, forbidden, isSafeId, mayAccess, notFound } from '@beedesk/runtime';
import { isSessionActive, mintSessionId, type SessionRecord } from './data';
import type { SessionContext } from './context';
import type { Resolvers } from './generated/resolvers';

async function visibleSession(id: string, context: SessionContext): Promise<SessionRecord | null> {
  if (!isSafeId(id)) return null;
  const session = await context.sessionLoader.load(id);
  return session && mayAccess(context.caller, session) ? session : null;
}

export const resolvers: Resolvers = {
  Query: {
    session: async (_root, { id }, context) => {
      const session = isSafeId(id) ? await context.sessionLoader.load(id) : null;
      if (!session) throw notFound('Session', id);
      if (!mayAccess(context.caller, session)) throw forbidden('This session belongs to another user.');
      return session;
    },
  },
  Mutation: {
    startSession: async (_root, _args, context) => {
      const { tenantId, userId } = context.caller;
      const mintId = () => mintSessionId(context.internalSecret, tenantId);
      const { session, resumed } = await context.sessions.startOrResume(tenantId, userId, new Date(), mintId);
      context.log.info({ sessionId: session.id, resumed }, resumed ? 'session resumed' : 'session started');
      if (!resumed) {
        // Best effort: the session exists whether or not a dashboard hears of it.
        await context.events
          .publishActivity(tenantId, { kind: 'SESSION_STARTED', sessionId: session.id, answerId: null, at: session.startedAt })
          .catch((error: unknown) => context.log.warn({ err: error, sessionId: session.id }, 'could not publish a live event'));
      }
      return session;
    },
    deleteMyData: async (_root, _args, context) => {
      const { tenantId, userId } = context.caller;
      const erased = await context.sessions.eraseUser(tenantId, userId);
      context.log.info(erased, 'user data erased');
      return erased;
    },
  },
  Session: {
    __resolveReference: (ref, context) => visibleSession(ref.id, context),
    status: (session) => (isSessionActive(session) ? 'ACTIVE' : 'EXPIRED'),
    turns: (session, { last }, context) => {
      if (last != null && last < 0) throw badInput('last: must not be negative', 'last');
      return context.sessions.turns(context.caller.tenantId, session.id, last ?? undefined);
    },
  },
};
