import type { Dispatcher } from 'undici';
import type { InferenceSettings, EngineName } from './config';
import { engineTable } from './config';
import { KnowledgeBaseEngine } from './engines/knowledge-base';
import { OpenAICompatibleEngine } from './engines/openai-compatible';
import type { AnswerEngine, KnowledgeSource } from './engines/types';
import { BreakerRegistry, ResilientEngine } from './resilience';

/** Engine per tenant, from configuration; remote engines come wrapped in retries and a breaker. */
export class EngineRouter {
  readonly breakers: BreakerRegistry;
  private readonly engines = new Map<EngineName, AnswerEngine>();
  private readonly byTenant: Map<string, EngineName>;

  constructor(
    private readonly settings: InferenceSettings,
    knowledge: KnowledgeSource,
    dispatcher: Dispatcher,
  ) {
    this.byTenant = engineTable(settings);
    this.breakers = new BreakerRegistry({
      maxRetries: settings.LLM_MAX_RETRIES,
      initialDelayMs: settings.LLM_RETRY_INITIAL_DELAY_MS,
      maxDelayMs: settings.LLM_RETRY_MAX_DELAY_MS,
      breakerThreshold: settings.BREAKER_THRESHOLD,
      halfOpenAfterMs: settings.BREAKER_HALF_OPEN_AFTER_MS,
    });
    this.engines.set('knowledge-base', new KnowledgeBaseEngine(knowledge));
    if (settings.LLM_BASE_URL) {
      const llm = new OpenAICompatibleEngine({
        baseUrl: settings.LLM_BASE_URL,
        model: settings.LLM_MODEL,
        apiKey: settings.LLM_API_KEY,
        firstTokenTimeoutMs: settings.LLM_FIRST_TOKEN_TIMEOUT_MS,
        idleTimeoutMs: settings.LLM_IDLE_TIMEOUT_MS,
        dispatcher,
        knowledge,
      });
      this.engines.set('llm', new ResilientEngine(llm, this.breakers));
      this.breakers.breakerFor(llm.endpoint);
    }
  }

  /** Throws at start when a configured engine cannot exist (e.g. llm without LLM_BASE_URL). */
  validate(): void {
    for (const name of [this.settings.ENGINE_DEFAULT, ...this.byTenant.values()]) {
      if (!this.engines.has(name)) throw new Error(`engine "${name}" is configured but LLM_BASE_URL is not set`);
    }
  }

  engineFor(tenantId: string): AnswerEngine {
    const name = this.byTenant.get(tenantId) ?? this.settings.ENGINE_DEFAULT;
    return this.engines.get(name) ?? this.engines.get('knowledge-base')!;
  }

  get defaultEngineName(): EngineName {
    return this.settings.ENGINE_DEFAULT;
  }
}
