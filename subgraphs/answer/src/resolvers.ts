import { badInput, forbidden, isSafeId, isStaff, mayAccess, notFound } from '@beedesk/runtime';
import { ask } from './ask';
import type { Resolvers } from './generated/resolvers';
import { feedbackResolvers } from './feedback';
import { liveResolvers } from './live';
import { statsResolvers } from './stats';

export const resolvers: Resolvers = {
  Query: {
    answer: async (_root, { id }, context) => {
      const answer = isSafeId(id) ? await context.answerLoader.load(id) : null;
      if (!answer) throw notFound('Answer', id);
      if (!mayAccess(context.caller, answer)) throw forbidden('This answer belongs to another user.');
      return answer;
    },
    unsureAnswers: async (_root, { first }, context) => {
      if (!isStaff(context.caller)) throw forbidden('Only agents and admins of this tenant may list unsure answers.');
      const limit = first ?? 20;
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw badInput('first: 1 to 100', 'first');
      return context.answers.recentUnsure(context.caller.tenantId, limit);
    },
    ...feedbackResolvers.Query,
    ...statsResolvers.Query,
  },
  Mutation: {
    ask: (_root, args, context) => ask(args, context),
    ...feedbackResolvers.Mutation,
  },
  Answer: {
    __resolveReference: async (ref, context) => {
      const answer = isSafeId(ref.id) ? await context.answerLoader.load(ref.id) : null;
      return answer && mayAccess(context.caller, answer) ? answer : null;
    },
    session: (answer) => ({ __typename: 'Session', id: answer.sessionId }),
    sources: (answer) => answer.sourceIds.map((id) => ({ __typename: 'Article', id })),
    ...feedbackResolvers.Answer,
  },
  ...liveResolvers,
};
