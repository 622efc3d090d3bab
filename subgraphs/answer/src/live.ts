import { forbidden, hasRole, type ActivityEventMessage, type AnswerEventMessage, type EventStream } from '@beedesk/runtime';
import { sessionIdTenancy } from '@beedesk/session/data';
import { accessibleSession } from './access';
import type { AnswerContext } from './context';
import type { Resolvers } from './generated/resolvers';

/**
 * Checks that the caller may follow a session before listening. Another tenant's session is told
 * apart by its id's tenant tag alone (no read of that tenant's keys), so it is FORBIDDEN while an
 * id unknown in the caller's own tenant is NOT_FOUND.
 */
async function checkSession(sessionId: string, context: AnswerContext): Promise<void> {
  if (sessionIdTenancy(context.internalSecret, context.caller.tenantId, sessionId) === 'other') {
    throw forbidden('This session belongs to another tenant.');
  }
  await accessibleSession(context, sessionId);
}

/** The answer as stored now: read fresh per event (a subscription's context lives for many events). */
const currentAnswer = (answerId: string | null, context: AnswerContext) =>
  answerId ? context.answers.get(context.caller.tenantId, answerId) : null;

export const liveResolvers: Pick<Resolvers, 'Subscription' | 'AnswerEvent' | 'ActivityEvent'> = {
  Subscription: {
    answerStream: {
      subscribe: async (_root, { sessionId }, context): Promise<EventStream<AnswerEventMessage>> => {
        await checkSession(sessionId, context);
        context.log.debug({ sessionId }, 'answer stream opened');
        return context.events.answerEvents(context.caller.tenantId, sessionId);
      },
      resolve: (event: AnswerEventMessage) => event,
    },
    tenantActivity: {
      subscribe: async (_root, _args, context): Promise<EventStream<ActivityEventMessage>> => {
        if (!hasRole(context.caller, 'admin')) throw forbidden('tenantActivity is for admins of the tenant.');
        return context.events.activity(context.caller.tenantId);
      },
      resolve: (event: ActivityEventMessage) => event,
    },
  },
  AnswerEvent: {
    // Token batches and human-handoff updates (whose answerId is only the update's id) have no answer to
    // read: skipping the read keeps a Redis round trip off every agent message to the customer.
    answer: (event, _args, context) => (event.kind === 'TOKEN' || event.handoff ? null : currentAnswer(event.answerId, context)),
  },
  ActivityEvent: {
    session: (event) => ({ __typename: 'Session', id: event.sessionId }),
    answer: (event, _args, context) => currentAnswer(event.answerId, context),
  },
};
