import { badInput, forbidden, hasRole, isStaff, type BaseContext } from '@beedesk/runtime';
import type { AnswerRepository } from '@beedesk/answer/data';
import type { Resolvers } from './generated/resolvers';
import type { KnowledgeCache } from './knowledge-cache';
import type { BreakerRegistry } from './resilience';

export const TRY_QUESTION_MAX_CHARS = 2000;

export interface InferenceContext extends BaseContext {
  answers: AnswerRepository;
  /** The engine answering a tenant's questions (ENGINE_DEFAULT or its ENGINE_TENANTS entry). */
  engineNameFor: (tenantId: string) => string;
  breakers: BreakerRegistry;
  knowledge: KnowledgeCache;
}

export const resolvers: Resolvers = {
  Query: {
    inferenceStatus: async (_root, _args, context) => {
      if (!hasRole(context.caller, 'admin')) throw forbidden('Only an admin may read the inference status.');
      // The caller's own backlog: the platform-wide lag (in /metrics) would reveal other tenants' traffic.
      const queueLag = await context.answers.pendingCount(context.caller.tenantId);
      return { engine: context.engineNameFor(context.caller.tenantId), queueLag, breaker: context.breakers.worstState() };
    },
    tryQuestion: async (_root, { text }, context) => {
      if (!isStaff(context.caller)) throw forbidden('Only agents and admins of this tenant may try questions.');
      const question = text.trim();
      if (!question || question.length > TRY_QUESTION_MAX_CHARS) throw badInput(`text: 1 to ${TRY_QUESTION_MAX_CHARS} characters`, 'text');
      const index = await context.knowledge.indexFor(context.caller.tenantId);
      const result = await index.searchAsync(question, { limit: 3 });
      return {
        matches: result.ranked.map((r) => ({ article: { id: r.article.id }, confidence: r.confidence })),
        threshold: index.threshold,
        wouldAnswer: result.confident,
      };
    },
  },
};
