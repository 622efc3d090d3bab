import { startSubgraph, type InferenceQueue, type Readiness, type ServiceDeps, type StartedService } from '@beedesk/runtime';
import { subgraphSdl } from '@beedesk/schema';
import { contextFactory } from './context';
import { resolvers } from './resolvers';

export { MAX_QUESTION_LENGTH } from './ask';

export interface AnswerServiceDeps extends ServiceDeps {
  queue: InferenceQueue;
  queueReadiness?: Readiness;
}

/** `ask` (validate, store, enqueue, answer a receipt at once) and answers. */
export function startAnswerService(deps: AnswerServiceDeps): Promise<StartedService> {
  return startSubgraph(deps, {
    name: 'answer',
    sdl: subgraphSdl('answer'),
    resolvers,
    createContext: contextFactory(deps.redis, deps.keyPrefix, deps.queue),
    readiness: deps.queueReadiness,
  });
}
