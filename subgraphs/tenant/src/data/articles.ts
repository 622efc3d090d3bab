import { execOrThrow, kbChangedPattern, parseJson, TenantStore, tenantOfKbChannel } from '@beedesk/runtime';
import { parseThreshold, THRESHOLD_FIELD } from './tenants';

/** What an answer engine checks before each question: is its index current, and how sure must it be. */
export interface KnowledgeState {
  /** The kb-version (bumped by every article change). */
  version: number;
  /** The tenant's answer-confidence threshold, or null when unset. */
  answerConfidenceThreshold: number | null;
}

export interface ChangeSubscription {
  close(): Promise<void>;
}

export interface ArticleRecord {
  id: string;
  title: string;
  body: string;
  questions: string[];
  locale: string;
  updatedAt: string;
}

/**
 * A tenant's knowledge-base articles. Every change bumps `kbVersion` and publishes on the tenant's
 * `kbChanged` channel in the same transaction, so readers either see the old or the new version.
 */
export class ArticleRepository extends TenantStore {
  /** Writes the article, indexes its id and bumps the knowledge-base version, atomically. */
  async upsert(tenantId: string, article: ArticleRecord): Promise<ArticleRecord> {
    const keys = this.keys(tenantId);
    await execOrThrow(
      this.redis
        .multi()
        .set(keys.article(article.id), JSON.stringify(article))
        .sadd(keys.articleIds, article.id)
        .incr(keys.kbVersion)
        .publish(keys.kbChanged, 'upsert'),
    );
    return article;
  }

  /** Upserts many articles in one transaction (seeding, imports). */
  async upsertMany(tenantId: string, articles: ArticleRecord[]): Promise<void> {
    if (articles.length === 0) return;
    const keys = this.keys(tenantId);
    const multi = this.redis.multi();
    for (const article of articles) multi.set(keys.article(article.id), JSON.stringify(article)).sadd(keys.articleIds, article.id);
    await execOrThrow(multi.incr(keys.kbVersion).publish(keys.kbChanged, 'upsert'));
  }

  async delete(tenantId: string, id: string): Promise<boolean> {
    const keys = this.keys(tenantId);
    const [removed] = await execOrThrow(
      this.redis.multi().del(keys.article(id)).srem(keys.articleIds, id).incr(keys.kbVersion).publish(keys.kbChanged, 'delete'),
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

  /** The kb-version and the tenant's answer threshold in one round trip. */
  async knowledgeState(tenantId: string): Promise<KnowledgeState> {
    const keys = this.keys(tenantId);
    const [version, threshold] = await execOrThrow(this.redis.pipeline().get(keys.kbVersion).hget(keys.tenant, THRESHOLD_FIELD));
    return { version: Number(version ?? 0), answerConfidenceThreshold: parseThreshold(threshold as string | null) };
  }

  /**
   * Calls `onChange(tenantId)` whenever an article of any tenant changes (on any replica), through a
   * dedicated subscriber connection. Best effort: a notification lost during a reconnect is caught up by
   * the version check readers do anyway; this only makes them refresh before their next question.
   */
  async subscribeToChanges(onChange: (tenantId: string) => void): Promise<ChangeSubscription> {
    const subscriber = this.redis.duplicate();
    subscriber.on('error', () => undefined); // ioredis reconnects (and re-subscribes) by itself
    subscriber.on('pmessage', (_pattern: string, channel: string) => {
      const tenantId = tenantOfKbChannel(this.prefix, channel);
      if (tenantId) onChange(tenantId);
    });
    await subscriber.psubscribe(kbChangedPattern(this.prefix));
    return {
      close: async () => {
        try {
          await subscriber.quit();
        } catch {
          subscriber.disconnect();
        }
      },
    };
  }
}
