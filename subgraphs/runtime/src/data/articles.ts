import { execOrThrow } from '../redis';
import { parseJson, TenantStore } from './store';

export interface ArticleRecord {
  id: string;
  title: string;
  body: string;
  questions: string[];
  locale: string;
  updatedAt: string;
}

export class ArticleRepository extends TenantStore {
  /** Writes the article, indexes its id and bumps the knowledge-base version, atomically. */
  async upsert(tenantId: string, article: ArticleRecord): Promise<ArticleRecord> {
    const keys = this.keys(tenantId);
    await execOrThrow(
      this.redis
        .multi()
        .set(keys.article(article.id), JSON.stringify(article))
        .sadd(keys.articleIds, article.id)
        .incr(keys.kbVersion),
    );
    return article;
  }

  /** Upserts many articles in one transaction (seeding, imports). */
  async upsertMany(tenantId: string, articles: ArticleRecord[]): Promise<void> {
    if (articles.length === 0) return;
    const keys = this.keys(tenantId);
    const multi = this.redis.multi();
    for (const article of articles) multi.set(keys.article(article.id), JSON.stringify(article)).sadd(keys.articleIds, article.id);
    await execOrThrow(multi.incr(keys.kbVersion));
  }

  async delete(tenantId: string, id: string): Promise<boolean> {
    const keys = this.keys(tenantId);
    const [removed] = await execOrThrow(
      this.redis.multi().del(keys.article(id)).srem(keys.articleIds, id).incr(keys.kbVersion),
    );
    return removed === 1;
  }

  async getMany(tenantId: string, ids: readonly string[]): Promise<(ArticleRecord | null)[]> {
    if (ids.length === 0) return [];
    const keys = this.keys(tenantId);
    const raws = await this.redis.mget(ids.map((id) => keys.article(id)));
    return raws.map((raw) => parseJson<ArticleRecord>(raw));
  }

  async list(tenantId: string): Promise<ArticleRecord[]> {
    const ids = (await this.redis.smembers(this.keys(tenantId).articleIds)).sort();
    return (await this.getMany(tenantId, ids)).filter((a): a is ArticleRecord => a !== null);
  }

  /** Changes whenever any article of the tenant changes. */
  async version(tenantId: string): Promise<number> {
    return Number((await this.redis.get(this.keys(tenantId).kbVersion)) ?? 0);
  }
}
