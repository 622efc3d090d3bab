import {
  AnswerRepository,
  ArticleRepository,
  SessionRepository,
  startSubgraph,
  type InferenceConsumer,
  type Readiness,
  type ServiceDeps,
  type StartedService,
} from '@beedesk/runtime';
import { subgraphSdl } from '@beedesk/schema';
import { KnowledgeBaseEngine } from './engine';
import { KnowledgeCache } from './knowledge-cache';
import { resolvers, type InferenceContext } from './resolvers';
import { InferenceWorker } from './worker';

export { KnowledgeIndex } from './knowledge';

export interface InferenceServiceDeps extends ServiceDeps {
  consumer: InferenceConsumer;
  consumerReadiness?: Readiness;
}

/** The consumer that answers questions, and the admin status query. */
export async function startInferenceService(deps: InferenceServiceDeps): Promise<StartedService> {
  const engine = new KnowledgeBaseEngine(new KnowledgeCache(new ArticleRepository(deps.redis, deps.keyPrefix), deps.logger));
  const worker = new InferenceWorker(
    new AnswerRepository(deps.redis, deps.keyPrefix),
    new SessionRepository(deps.redis, deps.keyPrefix),
    engine,
    deps.logger,
  );
  const server = await startSubgraph(deps, {
    name: 'inference',
    sdl: subgraphSdl('inference'),
    resolvers,
    createContext: (base): InferenceContext => ({ ...base, consumer: deps.consumer, engineName: engine.name }),
    readiness: deps.consumerReadiness,
  });
  await deps.consumer.start(worker.handle);
  return {
    port: server.port,
    // HTTP first, then the consumer: it finishes the answers in hand and commits before leaving.
    close: async () => {
      await server.close();
      await deps.consumer.stop();
    },
  };
}
export { loadBanking77, type LabelledQuestion } from './knowledge/eval';
