import { badInput, forbidden, isSafeId, isStaff, notFound } from '@beedesk/runtime';
import { isFinalStatus, RATED_ANSWERS_KEPT } from './data';
import type { Resolvers } from './generated/resolvers';

export const FEEDBACK_LIMITS = { comment: 1000, listed: 200 } as const;

/** Answer feedback: the answer's user rates it (rateAnswer); staff read it (Answer.feedback, ratedAnswers). */
export const feedbackResolvers = {
  Query: {
    ratedAnswers: async (_root, { last }, context) => {
      if (!isStaff(context.caller)) throw forbidden('Only agents and admins of this tenant may list rated answers.');
      const count = Math.min(Math.max(last ?? 50, 0), FEEDBACK_LIMITS.listed, RATED_ANSWERS_KEPT);
      const ids = await context.feedback.recent(context.caller.tenantId, count);
      const answers = await context.answerLoader.loadMany(ids);
      return answers.flatMap((answer) => (answer && !(answer instanceof Error) ? [answer] : []));
    },
  },
  Mutation: {
    rateAnswer: async (_root, { answerId, helpful, comment }, context) => {
      const answer = isSafeId(answerId) ? await context.answerLoader.load(answerId) : null;
      if (!answer) throw notFound('Answer', answerId);
      if (answer.userId !== context.caller.userId) throw forbidden('Only the user who asked may rate this answer.');
      if (!isFinalStatus(answer.status) || answer.status === 'FAILED')
        throw badInput('Only a given answer (DONE or FALLBACK) can be rated.', 'answerId');
      const remark = comment?.trim() || null;
      if (remark && remark.length > FEEDBACK_LIMITS.comment)
        throw badInput(`comment: at most ${FEEDBACK_LIMITS.comment} characters`, 'comment');
      await context.feedback.put(context.caller.tenantId, answer.id, { helpful, comment: remark, at: new Date().toISOString() });
      context.log.info({ answerId: answer.id, helpful }, 'answer rated');
      return answer;
    },
  },
  Answer: {
    feedback: (answer, _args, context) => context.feedback.get(context.caller.tenantId, answer.id),
    streamed: (answer, _args, context) =>
      isFinalStatus(answer.status) ? null : context.answers.streamedSoFar(context.caller.tenantId, answer.id),
  },
} satisfies Pick<Resolvers, 'Query' | 'Mutation' | 'Answer'>;
