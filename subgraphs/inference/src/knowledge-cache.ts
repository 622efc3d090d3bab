import type { Logger } from '@beedesk/runtime';
import type { ArticleRecord, ArticleRepository, ChangeSubscription } from '@beedesk/tenant/data';
import {
  DEFAULT_CONFIDENCE_THRESHOLD,
  KnowledgeIndex,
  type KnowledgeArticle,
  type KnowledgeIndexOptions,
  type Model,
} from '@beedesk/knowledge';
import { createModelBuilder, InlineModelBuilder, type ModelBuilder } from '@beedesk/knowledge/builder';
import { BuildPool, BuildTimeoutError } from './build-pool';

/** Defaults of the memory budget and the build time box (settings KNOWLEDGE_CACHE_MAX_BYTES, KNOWLEDGE_BUILD_*). */
export const DEFAULT_KNOWLEDGE_CACHE_MAX_BYTES = 256 * 1024 * 1024;
export const DEFAULT_BUILD_TIMEOUT_MS = 60_000;
export const DEFAULT_BUILD_WORKERS = 2;

/** What one tenant entry costs beside its articles and model (maps, closures, the served index object). */
const ENTRY_OVERHEAD_BYTES = 4 * 1024;

export interface KnowledgeCacheOptions {
  /**
   * Where models are trained. Default: a BuildPool of `buildWorkers` builders (worker threads when running
   * compiled, else in-thread), each build time-boxed by `buildTimeoutMs`.
   */
  builder?: ModelBuilder;
  /** One builder of the default pool (tests: a worker on a given script). */
  createBuilder?: () => ModelBuilder;
  buildWorkers?: number;
  buildTimeoutMs?: number;
  /**
   * Memory budget of all tenants' entries together (estimated: the models' typed arrays and the article texts);
   * the least recently used tenants are dropped beyond it and reloaded on their next question.
   */
  maxBytes?: number;
  /** Engine options (tests, eval experiments). */
  index?: KnowledgeIndexOptions;
  /** Subscribe to the tenants' kb-changed channel (default true; started on first use or by listen()). */
  listen?: boolean;
}

/**
 * Runs a task one at a time: a request while it runs asks for exactly one more run after it, so any
 * number of requests coalesce into at most one run in flight and one queued.
 */
class Coalesced {
  private running: Promise<void> | null = null;
  private again = false;

  constructor(private readonly task: () => Promise<void>) {}

  get busy(): boolean {
    return this.running !== null;
  }

  /** Resolves when a run that started after this call has finished. */
  request(): Promise<void> {
    this.again = true;
    this.running ??= (async () => {
      try {
        while (this.again) {
          this.again = false;
          await this.task();
        }
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }
}

/** What a replica knows about one tenant. */
interface TenantEntry {
  /** The index questions are answered with: the latest model over the latest article set (patched for what it lacks). */
  served: KnowledgeIndex | null;
  /** The kb-version the served article set was read at. */
  servedVersion: number;
  servedArticles: KnowledgeArticle[];
  model: Model | null;
  /** The kb-version the model was trained at (-1: none yet). */
  modelVersion: number;
  /** A kb-version read just before the next article-set read was asked for: that read need not read it again. */
  versionRead: number | null;
  /** Bumped when the tenant's knowledge base was erased: a build started before is of no use any more. */
  generation: number;
  /** Article-set reads (fast; they serve at once) and trainings (slow; the newest set read when one starts). */
  reads: Coalesced;
  builds: Coalesced;
  /** The last build failed or overran its time box (status only: what is served stays as it was). */
  buildFailed: boolean;
  /** Estimated bytes held (counted in KnowledgeCache.bytes while the entry is cached). */
  bytes: number;
}

export interface KnowledgeStatus {
  servedVersion: number;
  modelVersion: number;
  /** Articles already in the tenant's knowledge base that the serving model cannot find yet. */
  untrained: string[];
  /** Articles the serving model finds through an interim patch, until the next trained model. */
  patched: string[];
  building: boolean;
  /** The last build failed or overran its time box (questions get no confident answer until the next build). */
  buildFailed: boolean;
  /** Estimated bytes the tenant holds in this replica's cache. */
  bytes: number;
}

/** JS strings are UTF-16: two bytes a code unit. */
const articleBytes = (articles: readonly KnowledgeArticle[]): number =>
  articles.reduce((sum, a) => sum + 2 * (a.id.length + a.title.length + a.body.length + a.questions.reduce((q, t) => q + t.length, 0)), 0);

const toArticle = (a: ArticleRecord): KnowledgeArticle => ({
  id: a.id,
  title: a.title,
  body: a.body,
  questions: a.questions,
  locale: a.locale,
});

/**
 * One knowledge index per tenant, built from that tenant's articles only.
 *
 * Freshness without blocking: before each question the tenant's kb-version (bumped atomically with every
 * article change, one round trip together with the tenant's answer threshold) is compared with the served
 * one. On a change the article set is re-read at once and served right away: with the last trained model,
 * restricted to the current articles (a deleted article is never returned again) and patched in
 * milliseconds with the new and edited ones (patch.ts), so the next question finds them. Meanwhile a new
 * model is trained in a worker thread, warm-started from the previous one; it replaces the patched one
 * when done. Every article change is also published on the tenant's kb-changed channel, so every replica
 * that serves the tenant starts that refresh at once, not on its next question.
 * Only a tenant's first question on a replica waits for a build, and at most for the build time box.
 *
 * Bounded: entries are kept in least-recently-used order within a memory budget (`maxBytes`); an erased
 * tenant's entry is dropped at once; builds run on a pool of time-boxed builders (BuildPool), so one
 * tenant's huge or stuck build neither blocks another's nor is ever retried on the event loop.
 */
export class KnowledgeCache {
  /** In least-recently-used order: the first entry is the next to evict. */
  private readonly entries = new Map<string, TenantEntry>();
  private readonly builder: ModelBuilder;
  private readonly indexOptions: KnowledgeIndexOptions;
  private readonly maxBytes: number;
  private totalBytes = 0;
  private subscription: Promise<ChangeSubscription | null> | null = null;
  private closed = false;

  constructor(
    private readonly articles: ArticleRepository,
    private readonly logger: Logger,
    private readonly options: KnowledgeCacheOptions = {},
  ) {
    this.indexOptions = options.index ?? {};
    this.maxBytes = options.maxBytes ?? DEFAULT_KNOWLEDGE_CACHE_MAX_BYTES;
    this.builder =
      options.builder ??
      new BuildPool({
        size: options.buildWorkers ?? DEFAULT_BUILD_WORKERS,
        timeoutMs: options.buildTimeoutMs ?? DEFAULT_BUILD_TIMEOUT_MS,
        createSlot: options.createBuilder ?? (() => createModelBuilder(this.indexOptions)),
      });
  }

  /** Estimated bytes of every cached tenant together. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Cached tenants, least recently used first. */
  get tenants(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * The tenant's index, current as of this call's kb-version read; its `threshold` is the tenant's
   * answer-confidence threshold, used by `search` unless the caller passes one.
   */
  async indexFor(tenantId: string): Promise<KnowledgeIndex> {
    void this.listen();
    const state = await this.articles.knowledgeState(tenantId);
    let entry = this.entries.get(tenantId);
    if (entry) this.touch(tenantId, entry);
    // Any other version than the served one: newer, or lower when the knowledge base was erased (its kb-version went with it).
    if (!entry?.served || entry.servedVersion !== state.version) {
      entry = this.entryOf(tenantId);
      // Read before the articles are, so it is a safe tag for them: spares the read reading it again.
      entry.versionRead = Math.max(entry.versionRead ?? -1, state.version);
      await entry.reads.request();
      // Only a replica's very first index of a tenant waits for training; later ones serve the old model meanwhile.
      while (!entry.model && entry.servedArticles.length > 0 && entry.builds.busy) await entry.builds.idle();
    }
    const served = entry.served as KnowledgeIndex;
    served.threshold = state.answerConfidenceThreshold ?? DEFAULT_CONFIDENCE_THRESHOLD;
    return served;
  }

  /** The tenant's threshold as last read (for engines that want it separately). */
  async thresholdFor(tenantId: string): Promise<number> {
    return (await this.articles.knowledgeState(tenantId)).answerConfidenceThreshold ?? DEFAULT_CONFIDENCE_THRESHOLD;
  }

  /** Refresh a tenant now (what a kb-changed notification does); resolves when its article set is current. */
  async refresh(tenantId: string): Promise<void> {
    await this.entryOf(tenantId).reads.request();
  }

  /** Resolves when no read or build of the tenant is in flight (tests, benchmarks). */
  async settled(tenantId: string): Promise<void> {
    const entry = this.entries.get(tenantId);
    while (entry && (entry.reads.busy || entry.builds.busy)) await (entry.reads.busy ? entry.reads.idle() : entry.builds.idle());
  }

  status(tenantId: string): KnowledgeStatus | null {
    const entry = this.entries.get(tenantId);
    if (!entry) return null;
    return {
      servedVersion: entry.servedVersion,
      modelVersion: entry.modelVersion,
      untrained: entry.model ? (entry.served?.untrained ?? []) : entry.servedArticles.map((a) => a.id),
      patched: entry.served?.patched ?? [],
      building: entry.builds.busy,
      buildFailed: entry.buildFailed,
      bytes: entry.bytes,
    };
  }

  /**
   * Subscribes to every tenant's kb-changed channel (idempotent; also done on first use). A notification
   * refreshes only tenants this replica has served: others are loaded on their first question anyway.
   */
  listen(): Promise<void> {
    if (this.options.listen === false || this.closed) return Promise.resolve();
    this.subscription ??= this.articles
      .subscribeToChanges((tenantId) => {
        if (!this.entries.has(tenantId) || this.closed) return;
        this.refresh(tenantId).catch((error: unknown) =>
          this.logger.warn({ tenant: tenantId, err: error }, 'knowledge refresh after a change notification failed'),
        );
      })
      .catch((error: unknown) => {
        this.logger.warn({ err: error }, 'cannot subscribe to knowledge-base changes; indexes refresh on the next question only');
        return null;
      });
    return this.subscription.then(() => undefined);
  }

  /** Stops listening and the build worker. */
  async close(): Promise<void> {
    this.closed = true;
    const subscription = await this.subscription;
    await subscription?.close();
    await this.builder.close();
  }

  private entryOf(tenantId: string): TenantEntry {
    let entry = this.entries.get(tenantId);
    if (!entry) {
      const created: TenantEntry = {
        served: null,
        servedVersion: -1,
        servedArticles: [],
        model: null,
        modelVersion: -1,
        versionRead: null,
        generation: 0,
        reads: new Coalesced(() => this.readArticles(tenantId, created)),
        builds: new Coalesced(() => this.buildNewest(tenantId, created)),
        buildFailed: false,
        bytes: 0,
      };
      this.entries.set(tenantId, created);
      entry = created;
      this.account(tenantId, entry);
    }
    return entry;
  }

  private isCached(tenantId: string, entry: TenantEntry): boolean {
    return this.entries.get(tenantId) === entry;
  }

  /** Most recently used now. */
  private touch(tenantId: string, entry: TenantEntry): void {
    this.entries.delete(tenantId);
    this.entries.set(tenantId, entry);
  }

  /** Re-estimates the entry's bytes and evicts least recently used tenants beyond the budget (never this one). */
  private account(tenantId: string, entry: TenantEntry): void {
    if (!this.isCached(tenantId, entry)) return;
    const modelBytes = Math.max(entry.model?.byteSize ?? 0, entry.served?.modelBytes ?? 0);
    const bytes = ENTRY_OVERHEAD_BYTES + articleBytes(entry.servedArticles) + modelBytes;
    this.totalBytes += bytes - entry.bytes;
    entry.bytes = bytes;
    for (const [victim, other] of this.entries) {
      if (this.totalBytes <= this.maxBytes) break;
      if (other === entry) continue;
      this.drop(victim, other, 'evicted: knowledge cache over its memory budget');
    }
  }

  /** Forgets a tenant on this replica: its next question loads it again. A read or build in flight for it is discarded. */
  private drop(tenantId: string, entry: TenantEntry, reason: string): void {
    if (!this.isCached(tenantId, entry)) return;
    this.entries.delete(tenantId);
    this.totalBytes -= entry.bytes;
    entry.generation++;
    this.builder.forget(tenantId);
    this.logger.info({ tenant: tenantId, bytes: entry.bytes, cacheBytes: this.totalBytes }, `knowledge index dropped (${reason})`);
  }

  /** Re-reads the article set, serves it at once (patched), and asks for training when the model is older. */
  private async readArticles(tenantId: string, entry: TenantEntry): Promise<void> {
    // Version first: the articles read after it are at least that new, so the view is never older than its tag.
    // A hint no newer than what is served is no news; then a fresh read decides.
    const hinted = entry.versionRead;
    entry.versionRead = null;
    const version = hinted !== null && hinted > entry.servedVersion ? hinted : await this.articles.version(tenantId);
    if (entry.served && version === entry.servedVersion) return;
    // Versions only grow, except when the knowledge base is erased (eraseTenant removes the kb-version too):
    // then nothing of the old model may answer again, and the next one starts cold.
    const erased = version < entry.servedVersion;
    if (erased) this.forgetModel(tenantId, entry);
    const articles = (await this.articles.list(tenantId)).map(toArticle);
    entry.servedVersion = version;
    entry.servedArticles = articles;
    this.serve(tenantId, entry, 'read');
    // An erased tenant holds nothing here any more (the question in hand gets the empty index just served).
    if (erased && articles.length === 0) return this.drop(tenantId, entry, 'knowledge base erased');
    // During a build this queues one more, which trains the newest set read by then.
    if (version > entry.modelVersion) void entry.builds.request();
  }

  private forgetModel(tenantId: string, entry: TenantEntry): void {
    entry.generation++;
    entry.model = null;
    entry.modelVersion = -1;
    this.builder.forget(tenantId);
    this.logger.info({ tenant: tenantId }, 'knowledge base erased; its model is dropped');
  }

  /** Trains on the newest article set read, unless the model is already that new; serves the result. */
  private async buildNewest(tenantId: string, entry: TenantEntry): Promise<void> {
    const version = entry.servedVersion;
    const articles = entry.servedArticles;
    const generation = entry.generation;
    if (version <= entry.modelVersion || this.closed) return;
    const changedAt = performance.now();
    if (articles.length === 0) {
      entry.model = null;
      entry.buildFailed = false;
      this.builder.forget(tenantId);
    } else {
      const result = await this.train(tenantId, articles);
      if (entry.generation !== generation) return;
      if (!result) {
        // What is served stays: the older model, patched with the changes, or with none, nothing.
        entry.buildFailed = true;
        return;
      }
      entry.buildFailed = false;
      entry.model = result.model;
      this.logger.info(
        {
          tenant: tenantId,
          articles: articles.length,
          version,
          warm: result.warm,
          buildMs: Math.round(result.buildMs),
          sinceChangeMs: Math.round(performance.now() - changedAt),
          builder: this.builder.kind,
        },
        'knowledge index built',
      );
    }
    entry.modelVersion = version;
    // The newest model over the newest article set (possibly newer than the model, then patched again).
    this.serve(tenantId, entry, 'build');
  }

  private serve(tenantId: string, entry: TenantEntry, after: 'read' | 'build'): void {
    const started = performance.now();
    // Without a model an index would train one on its first search, on the event loop: never. Until the first
    // build is done (questions wait for it) or when it failed, the tenant's questions find nothing.
    const articles = entry.model ? entry.servedArticles : [];
    entry.served = KnowledgeIndex.serving(entry.model, articles, this.indexOptions);
    this.account(tenantId, entry);
    const patched = entry.served.patched.length;
    if (patched > 0) {
      this.logger.info(
        { tenant: tenantId, patched, version: entry.servedVersion, after, patchMs: Math.round(performance.now() - started) },
        'knowledge index patched',
      );
    }
  }

  private async train(tenantId: string, articles: KnowledgeArticle[]) {
    try {
      return await this.builder.build(tenantId, articles);
    } catch (error) {
      if (error instanceof BuildTimeoutError) {
        // Never retried in-thread: that would stall every tenant's questions on this replica.
        this.logger.error({ tenant: tenantId, articles: articles.length, timeoutMs: error.timeoutMs }, 'knowledge model build timed out');
        return null;
      }
      if (this.closed) return null;
      this.logger.error({ tenant: tenantId, err: error }, 'knowledge model build failed; building in-thread instead');
      try {
        return await new InlineModelBuilder(this.indexOptions).build(tenantId, articles);
      } catch (inline) {
        this.logger.error({ tenant: tenantId, err: inline }, 'knowledge model build failed');
        return null;
      }
    }
  }
}
