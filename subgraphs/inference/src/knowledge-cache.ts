import type { ArticleRepository, Logger } from '@beedesk/runtime';
import { KnowledgeIndex } from './knowledge';

interface Entry {
  version: number;
  index: KnowledgeIndex;
}

/**
 * One knowledge index per tenant, built from that tenant's articles only. Before each use the
 * tenant's knowledge-base version (bumped atomically with every article change) is compared, so an
 * upsert or delete through any replica is seen by every inference replica on its next question.
 */
export class KnowledgeCache {
  private readonly entries = new Map<string, Entry>();
  private readonly building = new Map<string, Promise<Entry>>();

  constructor(
    private readonly articles: ArticleRepository,
    private readonly logger: Logger,
  ) {}

  async indexFor(tenantId: string): Promise<KnowledgeIndex> {
    const version = await this.articles.version(tenantId);
    const cached = this.entries.get(tenantId);
    if (cached && cached.version === version) return cached.index;
    let pending = this.building.get(tenantId);
    if (!pending) {
      pending = this.build(tenantId, version).finally(() => this.building.delete(tenantId));
      this.building.set(tenantId, pending);
    }
    return (await pending).index;
  }

  private async build(tenantId: string, version: number): Promise<Entry> {
    const started = performance.now();
    const articles = await this.articles.list(tenantId);
    const index = new KnowledgeIndex();
    for (const article of articles) index.upsert(article);
    const entry = { version, index };
    this.entries.set(tenantId, entry);
    this.logger.info(
      { tenant: tenantId, articles: articles.length, version, ms: Math.round(performance.now() - started) },
      'knowledge index built',
    );
    return entry;
  }
}
