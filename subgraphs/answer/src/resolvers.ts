import { forbidden, isSafeId, mayAccess, notFound, type GraphQLResolverMap } from '@beedesk/runtime';
import { type AnswerRecord } from './data';
import { ask, type AskArgs } from './ask';
import type { AnswerContext } from './context';
import { liveResolvers } from './live';

export const resolvers: GraphQLResolverMap<AnswerContext> = {
  Query: {
    answer: async (_root, { id }: { id: string }, context) => {
      const answer = isSafeId(id) ? await context.answerLoader.load(id) : null;
      if (!answer) throw notFound('Answer', id);
      if (!mayAccess(context.tenant, answer)) throw forbidden('This answer belongs to another user.');
      return answer;
    },
  },
  Mutation: {
    ask: (_root, args: AskArgs, context) => ask(args, context),
  },
  Answer: {
    __resolveReference: async (ref: { id: string }, context: AnswerContext) => {
      const answer = isSafeId(ref.id) ? await context.answerLoader.load(ref.id) : null;
      return answer && mayAccess(context.tenant, answer) ? answer : null;
    },
    session: (answer: AnswerRecord) => ({ __typename: 'Session', id: answer.sessionId }),
    sources: (answer: AnswerRecord) => answer.sourceIds.map((id) => ({ __typename: 'Article', id })),
  },
  ...liveResolvers,
};
