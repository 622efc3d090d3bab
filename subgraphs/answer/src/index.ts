import {
  createInProcessEventBus,
  loadConfig,
  startSubgraph,
  type EventBus,
  type InferenceQueue,
  type Readiness,
  type ServiceDeps,
  type StartedService,
} from '@beedesk/runtime';
import { AnswerRepository } from './data';
import { HandoffActions } from '@beedesk/handoff/data';
import { subgraphSdl } from '@beedesk/schema';
import { answerSettings, type AnswerSettings } from './config';
import { contextFactory } from './context';
import { startOutboxSweeper } from './outbox-sweeper';
import { resolvers } from './resolvers';

export { answerSettings, type AnswerSettings } from './config';

export interface AnswerServiceDeps extends ServiceDeps {
  queue: InferenceQueue;
  queueReadiness?: Readiness;
  /** Publishes QUEUED and feeds the subscriptions; an in-process bus when omitted (tests). */
  events?: EventBus;
  /** Defaults to the OUTBOX_* environment settings. */
  settings?: AnswerSettings;
}

/** `ask` (validate, store, enqueue, answer a receipt at once), answers, and their live streams. */
export async function startAnswerService(deps: AnswerServiceDeps): Promise<StartedService> {
  const events = deps.events ?? createInProcessEventBus(deps.keyPrefix, deps.logger);
  const settings = deps.settings ?? loadConfig(answerSettings);
  const sweeper = startOutboxSweeper(
    new AnswerRepository(deps.redis, deps.keyPrefix),
    deps.queue,
    events,
    deps.logger,
    settings,
    HandoffActions.create(deps.redis, deps.keyPrefix, events, deps.logger),
  );
  const server = await startSubgraph(deps, {
    name: 'answer',
    sdl: subgraphSdl('answer'),
    resolvers,
    createContext: contextFactory({
      redis: deps.redis,
      keyPrefix: deps.keyPrefix,
      queue: deps.queue,
      events,
      internalSecret: deps.internalSecret,
      logger: deps.logger,
    }),
    readiness: deps.queueReadiness,
  });
  return {
    port: server.port,
    // The sweeper first: it may be sending through the producer that closes after us.
    close: async () => {
      await sweeper.stop();
      await server.close();
    },
  };
}
