import { z } from 'zod';

export const ENGINE_NAMES = ['knowledge-base', 'llm'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/** Settings of the inference service beside the common ones. */
export const inferenceSettings = z.object({
  /** The engine for tenants not listed in ENGINE_TENANTS. */
  ENGINE_DEFAULT: z.enum(ENGINE_NAMES).default('knowledge-base'),
  /** Per-tenant engines: `demo-bank=llm,demo-cn=knowledge-base`. */
  ENGINE_TENANTS: z
    .string()
    .regex(/^([a-z0-9-]+=(knowledge-base|llm))(,[a-z0-9-]+=(knowledge-base|llm))*$/, 'tenant=engine pairs, comma-separated')
    .optional(),
  /** Any OpenAI-compatible server: vLLM, Ollama, Xinference… (`/v1/chat/completions` is appended). */
  LLM_BASE_URL: z.string().url().optional(),
  LLM_MODEL: z.string().min(1).default('default'),
  LLM_API_KEY: z.string().min(1).optional(),
  LLM_FIRST_TOKEN_TIMEOUT_MS: z.coerce.number().int().min(50).default(10_000),
  LLM_IDLE_TIMEOUT_MS: z.coerce.number().int().min(50).default(5_000),
  LLM_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  LLM_RETRY_INITIAL_DELAY_MS: z.coerce.number().int().min(1).default(200),
  LLM_RETRY_MAX_DELAY_MS: z.coerce.number().int().min(1).default(3_000),
  BREAKER_THRESHOLD: z.coerce.number().int().min(1).default(5),
  BREAKER_HALF_OPEN_AFTER_MS: z.coerce.number().int().min(100).default(15_000),
  /** How long a worker's claim on an answer lasts without a refresh (refreshed every third of it). */
  INFERENCE_CLAIM_TTL_MS: z.coerce.number().int().min(300).default(15_000),
  /** Longest one answer may take in the engine before it is aborted and answered with the fallback. */
  INFERENCE_ANSWER_DEADLINE_MS: z.coerce.number().int().min(100).default(120_000),
  /** Memory budget of the per-tenant knowledge models on one replica (estimated); least recently used tenants go first. */
  KNOWLEDGE_CACHE_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024 * 1024)
    .default(256 * 1024 * 1024),
  /** Knowledge model builds that run at once (worker threads): a slow tenant's build does not hold up others'. */
  KNOWLEDGE_BUILD_WORKERS: z.coerce.number().int().min(1).max(16).default(2),
  /** A build running longer is abandoned, its worker terminated and replaced (0: no time box). */
  KNOWLEDGE_BUILD_TIMEOUT_MS: z.coerce.number().int().min(0).default(60_000),
  /** Partitions a worker processes at once (each in order). */
  INFERENCE_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /**
   * `fifo`: each partition's requests in arrival order. `fair`: requests read ahead from every partition and
   * served by deficit round robin between tenants (one tenant's burst does not queue ahead of the others).
   * `fair` by default since the whole end-to-end suite passed with it (README, "Fair queueing between tenants").
   */
  INFERENCE_SCHEDULING: z.enum(['fifo', 'fair']).default('fair'),
  /**
   * fair: one tenant's requests answered at once on a worker (0: only INFERENCE_CONCURRENCY bounds it).
   * Unset: INFERENCE_CONCURRENCY − 1, so another tenant's question never waits for one of them to end.
   */
  INFERENCE_MAX_PER_TENANT: z.coerce.number().int().min(0).max(64).optional(),
  /**
   * fair: one tenant's requests answered at once on a worker while another tenant is active (read within
   * the last second, waiting or running); 0: INFERENCE_MAX_PER_TENANT alone. The built-in engine answers on
   * the worker's thread, so a quiet tenant's question shares it with every answer running beside it.
   */
  INFERENCE_MAX_PER_TENANT_CONTENDED: z.coerce.number().int().min(0).max(64).default(0),
  /** fair: requests read ahead and waiting on a worker, at most. */
  INFERENCE_MAX_BUFFERED: z.coerce.number().int().min(1).max(100_000).default(2000),
});
export type InferenceSettings = z.infer<typeof inferenceSettings>;

export function engineTable(settings: Pick<InferenceSettings, 'ENGINE_TENANTS'>): Map<string, EngineName> {
  const table = new Map<string, EngineName>();
  for (const pair of settings.ENGINE_TENANTS?.split(',') ?? []) {
    const [tenant, engine] = pair.split('=') as [string, EngineName];
    table.set(tenant, engine);
  }
  return table;
}
