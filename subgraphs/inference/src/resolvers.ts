import { forbidden, hasRole, type BaseContext } from '@beedesk/runtime';
import type { AnswerRepository } from '@beedesk/answer/data';
import type { Resolvers } from './generated/resolvers';
import type { BreakerRegistry } from './resilience';

export interface InferenceContext extends BaseContext {
  answers: AnswerRepository;
  engineName: string;
  breakers: BreakerRegistry;
}

export const resolvers: Resolvers = {
  Query: {
    inferenceStatus: async (_root, _args, context) => {
      if (!hasRole(context.caller, 'admin')) throw forbidden('Only an admin may read the inference status.');
      // The caller's own backlog: the platform-wide lag (in /metrics) would reveal other tenants' traffic.
      const queueLag = await context.answers.pendingCount(context.caller.tenantId);
      return { engine: context.engineName, queueLag, breaker: context.breakers.worstState() };
    },
  },
};
