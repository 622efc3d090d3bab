import { codedError, ErrorCode, isSafeId, mayAccess } from '@beedesk/runtime';
import type { Resolvers } from './generated/resolvers';

const notImplemented = (): never => {
  throw codedError(ErrorCode.NOT_IMPLEMENTED, 'Human handoff is part of the contract but not served by this build yet.');
};

export const resolvers: Resolvers = {
  Query: {
    inbox: notImplemented,
    conversation: notImplemented,
    agents: notImplemented,
    myAgent: notImplemented,
  },
  Mutation: {
    requestHuman: notImplemented,
    setTyping: notImplemented,
    claimConversation: notImplemented,
    assignConversation: notImplemented,
    reassignConversation: notImplemented,
    releaseConversation: notImplemented,
    sendAgentMessage: notImplemented,
    resolveConversation: notImplemented,
    returnToBot: notImplemented,
    addInternalNote: notImplemented,
    updateMyAgentProfile: notImplemented,
    updateAgent: notImplemented,
  },
  Subscription: {
    handoffEvents: {
      subscribe: notImplemented,
    },
  },
  Session: {
    // Only a session of the caller's tenant that the caller may see; anything else is null.
    __resolveReference: async (ref, context) => {
      const session = isSafeId(ref.id) ? await context.sessions.get(context.caller.tenantId, ref.id) : null;
      return session && mayAccess(context.caller, session) ? { id: session.id } : null;
    },
    handoff: notImplemented,
  },
};
