import {
  observeWithExemplar,
  loadConfig,
  NO_EVENTS,
  startSubgraph,
  type InferenceConsumer,
  type Readiness,
  type ServiceDeps,
  type StartedService,
} from '@beedesk/runtime';
import { AnswerRepository } from '@beedesk/answer/data';
import { ArticleRepository, DEFAULT_ANSWER_CONFIDENCE_THRESHOLD, TenantRepository } from '@beedesk/tenant/data';
import { HandoffActions } from '@beedesk/handoff/data';
import { subgraphSdl } from '@beedesk/schema';
import { Agent } from 'undici';
import { inferenceSettings, type InferenceSettings } from './config';
import { EngineRouter } from './engine-router';
import { KnowledgeCache } from './knowledge-cache';
import { currentSentenceEncoder, defaultModelDir, SentenceEncoder, useSentenceEncoder } from '@beedesk/knowledge';
import { createInferenceMetrics } from './metrics';
import { resolvers, type InferenceContext } from './resolvers';
import { InferenceWorker, type WorkerOptions } from './worker';

export { inferenceSettings, type InferenceSettings } from './config';

/**
 * Loads the sentence-embedding model once per process when `ops/models/models.sh fetch` has cached it
 * (BEEDESK_EMBEDDINGS=off: never); without it the knowledge engine answers with its word features alone.
 */
async function loadSentenceEncoder(logger: InferenceServiceDeps['logger']): Promise<void> {
  if (currentSentenceEncoder()) return;
  try {
    const encoder = await SentenceEncoder.load();
    useSentenceEncoder(encoder);
    logger.info({ embeddings: encoder ? encoder.name : 'off', modelDir: defaultModelDir() }, 'knowledge engine sentence embeddings');
  } catch (error) {
    logger.warn({ err: error }, 'sentence-embedding model could not be loaded; word features only');
  }
}

export interface InferenceServiceDeps extends ServiceDeps {
  consumer: InferenceConsumer;
  consumerReadiness?: Readiness;
  /** Defaults to the ENGINE_* / LLM_* / BREAKER_* environment settings. */
  settings?: InferenceSettings;
  worker?: Partial<WorkerOptions>;
}

export interface StartedInferenceService extends StartedService {
  /** Builds a tenant's knowledge index now, so its first question does not wait for training. */
  warm(tenantId: string): Promise<void>;
}

/** The consumer that answers questions with the tenant's engine, and the admin status query. */
export async function startInferenceService(deps: InferenceServiceDeps): Promise<StartedInferenceService> {
  await loadSentenceEncoder(deps.logger);
  const llmPool = new Agent({ connections: 64, keepAliveTimeout: 30_000 });
  const settings = deps.settings ?? loadConfig(inferenceSettings);
  const knowledge = new KnowledgeCache(new ArticleRepository(deps.redis, deps.keyPrefix), deps.logger, {
    maxBytes: settings.KNOWLEDGE_CACHE_MAX_BYTES,
    buildWorkers: settings.KNOWLEDGE_BUILD_WORKERS,
    buildTimeoutMs: settings.KNOWLEDGE_BUILD_TIMEOUT_MS,
  });
  const engines = new EngineRouter(settings, knowledge, llmPool);
  engines.validate();
  const metrics = createInferenceMetrics(deps.consumer, engines.breakers, deps.defaultMetrics ?? true);
  engines.breakers.onStateChange((endpoint, state) => deps.logger.warn({ endpoint, state }, 'circuit breaker changed state'));
  const answers = new AnswerRepository(deps.redis, deps.keyPrefix);
  const handoff = HandoffActions.create(deps.redis, deps.keyPrefix, deps.events ?? NO_EVENTS, deps.logger);
  const tenants = new TenantRepository(deps.redis, deps.keyPrefix);
  const worker = new InferenceWorker(
    answers,
    engines,
    deps.logger,
    deps.events ?? NO_EVENTS,
    metrics,
    {
      claimTtlMs: settings.INFERENCE_CLAIM_TTL_MS,
      answerDeadlineMs: settings.INFERENCE_ANSWER_DEADLINE_MS,
      ...deps.worker,
    },
    // The tenant's rules decide whether an unsure, out-of-scope or failed answer hands the conversation to a person.
    async (request, done) => {
      const tenant = await tenants.get(request.tenantId);
      await handoff.afterEngineAnswer(request.tenantId, {
        sessionId: request.sessionId,
        userId: request.userId,
        question: request.question,
        status: done.status,
        confidence: done.confidence,
        needsHuman: done.needsHuman,
        sourceIds: done.sourceIds,
        answerThreshold: tenant?.answerConfidenceThreshold ?? DEFAULT_ANSWER_CONFIDENCE_THRESHOLD,
      });
    },
  );
  // Ready once it consumes (HTTP listens first, so the admin query works while the consumer joins its group).
  // Its engines need no check here: one that is configured but cannot exist stops the service at start (validate()).
  let consuming = false;
  const server = await startSubgraph(deps, {
    name: 'inference',
    sdl: subgraphSdl('inference'),
    resolvers,
    metrics,
    createContext: (base): InferenceContext => ({
      ...base,
      answers,
      engineNameFor: (tenantId) => engines.engineFor(tenantId).name,
      breakers: engines.breakers,
      knowledge,
    }),
    readiness: async () => ({
      consumer: consuming ? 'ok' : 'starting',
      ...(deps.consumerReadiness ? await deps.consumerReadiness() : {}),
    }),
  });
  await deps.consumer.start(async (request, delivery) => {
    const started = performance.now();
    let outcome = 'error';
    try {
      await worker.handle(request, delivery);
      outcome = 'ok';
    } finally {
      observeWithExemplar(metrics.processSeconds, { outcome }, (performance.now() - started) / 1000);
    }
  });
  consuming = true;
  return {
    port: server.port,
    warm: async (tenantId) => {
      await knowledge.refresh(tenantId);
      await knowledge.settled(tenantId);
    },
    // HTTP first, then the consumer: it finishes the answers in hand and commits before leaving.
    close: async () => {
      await server.close();
      await deps.consumer.stop();
      await knowledge.close();
      await llmPool.close();
    },
  };
}
