import { forbidden, hasRole, type BaseContext, type GraphQLResolverMap, type InferenceConsumer } from '@beedesk/runtime';
import type { BreakerRegistry } from './resilience';

export interface InferenceContext extends BaseContext {
  consumer: InferenceConsumer;
  engineName: string;
  breakers: BreakerRegistry;
}

export const resolvers: GraphQLResolverMap<InferenceContext> = {
  Query: {
    inferenceStatus: async (_root, _args, context) => {
      if (!hasRole(context.tenant, 'admin')) throw forbidden('Only an admin may read the inference status.');
      return { engine: context.engineName, queueLag: await context.consumer.lag(), breaker: context.breakers.worstState() };
    },
  },
};
