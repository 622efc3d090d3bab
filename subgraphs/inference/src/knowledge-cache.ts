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

export interface KnowledgeCacheOptions {
  /** Where models are trained; default: a worker thread when running compiled, else in-thread. */
  builder?: ModelBuilder;
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
}

export interface KnowledgeStatus {
  servedVersion: number;
  modelVersion: number;
  /** Articles already in the tenant's knowledge base that the serving model cannot find yet. */
  untrained: string[];
  /** Articles the serving model finds through an interim patch, until the next trained model. */
  patched: string[];
  building: boolean;
}

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
 * Only a tenant's first question on a replica waits for a build.
 */
export class KnowledgeCache {
  private readonly entries = new Map<string, TenantEntry>();
  private readonly builder: ModelBuilder;
  private readonly indexOptions: KnowledgeIndexOptions;
  private subscription: Promise<ChangeSubscription | null> | null = null;
  private closed = false;

  constructor(
    private readonly articles: ArticleRepository,
    private readonly logger: Logger,
    private readonly options: KnowledgeCacheOptions = {},
  ) {
    this.indexOptions = options.index ?? {};
    this.builder = options.builder ?? createModelBuilder(this.indexOptions);
  }

  /**
   * The tenant's index, current as of this call's kb-version read; its `threshold` is the tenant's
   * answer-confidence threshold, used by `search` unless the caller passes one.
   */
  async indexFor(tenantId: string): Promise<KnowledgeIndex> {
    void this.listen();
    const state = await this.articles.knowledgeState(tenantId);
    let entry = this.entries.get(tenantId);
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
      untrained: entry.served?.untrained ?? [],
      patched: entry.served?.patched ?? [],
      building: entry.builds.busy,
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
      };
      this.entries.set(tenantId, created);
      entry = created;
    }
    return entry;
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
    if (version < entry.servedVersion) this.forgetModel(tenantId, entry);
    const articles = (await this.articles.list(tenantId)).map(toArticle);
    entry.servedVersion = version;
    entry.servedArticles = articles;
    this.serve(tenantId, entry, 'read');
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
      this.builder.forget(tenantId);
    } else {
      const result = await this.train(tenantId, articles);
      if (!result || entry.generation !== generation) return;
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
    entry.served = KnowledgeIndex.serving(entry.model, entry.servedArticles, this.indexOptions);
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
