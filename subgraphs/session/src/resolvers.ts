import {
  badInput,
  forbidden,
  isSafeId,
  isSessionActive,
  isStaff,
  notFound,
  type GraphQLResolverMap,
  type SessionRecord,
  type TenantContext as Caller,
} from '@beedesk/runtime';
import type { SessionContext } from './context';

/** Customers see their own sessions; agents and admins every session of their tenant. */
export const maySee = (caller: Caller, session: SessionRecord): boolean => isStaff(caller) || session.userId === caller.userId;

async function visibleSession(id: string, context: SessionContext): Promise<SessionRecord | null> {
  if (!isSafeId(id)) return null;
  const session = await context.sessionLoader.load(id);
  return session && maySee(context.tenant, session) ? session : null;
}

export const resolvers: GraphQLResolverMap<SessionContext> = {
  Query: {
    session: async (_root, { id }: { id: string }, context) => {
      const session = isSafeId(id) ? await context.sessionLoader.load(id) : null;
      if (!session) throw notFound('Session', id);
      if (!maySee(context.tenant, session)) throw forbidden('This session belongs to another user.');
      return session;
    },
  },
  Mutation: {
    startSession: async (_root, _args, context) => {
      const { session, resumed } = await context.sessions.startOrResume(context.tenant.tenantId, context.tenant.userId);
      context.log.info({ sessionId: session.id, resumed }, resumed ? 'session resumed' : 'session started');
      return session;
    },
  },
  Session: {
    __resolveReference: (ref: { id: string }, context: SessionContext) => visibleSession(ref.id, context),
    status: (session: SessionRecord) => (isSessionActive(session) ? 'ACTIVE' : 'EXPIRED'),
    turns: (session: SessionRecord, { last }: { last?: number | null }, context) => {
      if (last != null && last < 0) throw badInput('last: must not be negative', 'last');
      return context.sessions.turns(context.tenant.tenantId, session.id, last ?? undefined);
    },
  },
};
