import {
  createInProcessEventBus,
  startSubgraph,
  type EventBus,
  type InferenceQueue,
  type Readiness,
  type ServiceDeps,
  type StartedService,
} from '@beedesk/runtime';
import { subgraphSdl } from '@beedesk/schema';
import { contextFactory } from './context';
import { resolvers } from './resolvers';

export interface AnswerServiceDeps extends ServiceDeps {
  queue: InferenceQueue;
  queueReadiness?: Readiness;
  /** Publishes QUEUED and feeds the subscriptions; an in-process bus when omitted (tests). */
  events?: EventBus;
}

/** `ask` (validate, store, enqueue, answer a receipt at once), answers, and their live streams. */
export function startAnswerService(deps: AnswerServiceDeps): Promise<StartedService> {
  const events = deps.events ?? createInProcessEventBus(deps.keyPrefix, deps.logger);
  return startSubgraph(deps, {
    name: 'answer',
    sdl: subgraphSdl('answer'),
    resolvers,
    createContext: contextFactory({
      redis: deps.redis,
      keyPrefix: deps.keyPrefix,
      queue: deps.queue,
      events,
      internalSecret: deps.internalSecret,
    }),
    readiness: deps.queueReadiness,
  });
}
