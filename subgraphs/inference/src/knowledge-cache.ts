import type { ArticleRecord, ArticleRepository, ChangeSubscription, Logger } from '@beedesk/runtime';
import { DEFAULT_CONFIDENCE_THRESHOLD, KnowledgeIndex, type KnowledgeArticle, type KnowledgeIndexOptions, type Model } from './knowledge';
import { createModelBuilder, InlineModelBuilder, type ModelBuilder } from './knowledge/builder';

export interface KnowledgeCacheOptions {
  /** Where models are trained; default: a worker thread when running compiled, else in-thread. */
  builder?: ModelBuilder;
  /** Engine options (tests, eval experiments). */
  index?: KnowledgeIndexOptions;
  /** Subscribe to the tenants' kb-changed channel (default true; started on first use or by listen()). */
  listen?: boolean;
}

/** What a replica knows about one tenant. */
interface TenantEntry {
  /** The index questions are answered with: the latest model over the latest article set. */
  served: KnowledgeIndex | null;
  /** The kb-version the served article set was read at. */
  servedVersion: number;
  servedArticles: KnowledgeArticle[];
  model: Model | null;
  /** The kb-version the model was trained at (-1: none yet). */
  modelVersion: number;
  /** An article-set load in flight, and whether another one was asked for meanwhile. */
  loading: Promise<void> | null;
  reload: boolean;
  /** A build in flight (the loop builds again while newer article sets arrive), and the newest set to build. */
  building: Promise<void> | null;
  wanted: { version: number; articles: KnowledgeArticle[]; changedAt: number } | null;
}

export interface KnowledgeStatus {
  servedVersion: number;
  modelVersion: number;
  /** Articles already in the tenant's knowledge base that the serving model cannot find yet. */
  untrained: string[];
  building: boolean;
}

const toArticle = (a: ArticleRecord): KnowledgeArticle => ({ id: a.id, title: a.title, body: a.body, questions: a.questions, locale: a.locale });

/**
 * One knowledge index per tenant, built from that tenant's articles only.
 *
 * Freshness without blocking: before each question the tenant's kb-version (bumped atomically with every
 * article change, one round trip together with the tenant's answer threshold) is compared with the served
 * one. On a change the article set is re-read at once and the index keeps answering with the previous
 * model restricted to it (a deleted article is never returned again, an edited one is quoted as it is
 * now), while a new model is trained in a worker thread, warm-started from the previous one; it replaces
 * the old one when done. Every article change is also published on the tenant's kb-changed channel, so
 * every replica that serves the tenant starts that refresh at once, not on its next question.
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
    if (!entry?.served || entry.servedVersion < state.version) {
      entry = this.entryOf(tenantId);
      await this.load(tenantId, entry);
      // Only a replica's very first index of a tenant waits for training; later ones serve the old model meanwhile.
      while (!entry.model && entry.servedArticles.length > 0 && entry.building) await entry.building;
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
    await this.load(tenantId, this.entryOf(tenantId));
  }

  /** Resolves when no build of the tenant is in flight (tests, benchmarks). */
  async settled(tenantId: string): Promise<void> {
    const entry = this.entries.get(tenantId);
    while (entry && (entry.loading || entry.building)) await (entry.loading ?? entry.building);
  }

  status(tenantId: string): KnowledgeStatus | null {
    const entry = this.entries.get(tenantId);
    if (!entry) return null;
    return {
      servedVersion: entry.servedVersion,
      modelVersion: entry.modelVersion,
      untrained: entry.served?.untrained ?? [],
      building: entry.building !== null,
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
      entry = { served: null, servedVersion: -1, servedArticles: [], model: null, modelVersion: -1, loading: null, reload: false, building: null, wanted: null };
      this.entries.set(tenantId, entry);
    }
    return entry;
  }

  /** Re-reads the article set (coalescing concurrent asks), serves it at once, and schedules training. */
  private load(tenantId: string, entry: TenantEntry): Promise<void> {
    entry.reload = true;
    if (entry.loading) return entry.loading;
    entry.loading = (async () => {
      while (entry.reload) {
        entry.reload = false;
        const changedAt = performance.now();
        // Version first: the articles read after it are at least that new, so the view is never older than its tag.
        const version = await this.articles.version(tenantId);
        if (entry.served && version <= entry.servedVersion) continue;
        const articles = (await this.articles.list(tenantId)).map(toArticle);
        if (version < entry.servedVersion) continue;
        entry.servedVersion = version;
        entry.servedArticles = articles;
        entry.served = KnowledgeIndex.serving(entry.model, articles, this.indexOptions);
        if (version > entry.modelVersion) this.scheduleBuild(tenantId, entry, { version, articles, changedAt });
      }
    })().finally(() => {
      entry.loading = null;
    });
    return entry.loading;
  }

  private scheduleBuild(tenantId: string, entry: TenantEntry, wanted: NonNullable<TenantEntry['wanted']>): void {
    entry.wanted = wanted;
    if (entry.building) return;
    entry.building = (async () => {
      while (entry.wanted && entry.wanted.version > entry.modelVersion && !this.closed) {
        const { version, articles, changedAt } = entry.wanted;
        entry.wanted = null;
        if (articles.length === 0) {
          entry.model = null;
          entry.modelVersion = version;
          this.builder.forget(tenantId);
        } else {
          const result = await this.train(tenantId, articles);
          if (!result) continue;
          entry.model = result.model;
          entry.modelVersion = version;
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
        // The newest article set (possibly newer than the model) with the newest model.
        entry.served = KnowledgeIndex.serving(entry.model, entry.servedArticles, this.indexOptions);
      }
    })().finally(() => {
      entry.building = null;
    });
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
