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

/** Per-tenant caps on a knowledge base (0: no cap). */
export interface KnowledgeBaseCaps {
  maxArticles: number;
  /** UTF-8 bytes of every article's example questions together. */
  maxQuestionBytes: number;
}

export type CappedUpsert =
  { ok: true; article: ArticleRecord } | { ok: false; limit: 'articles' | 'questionBytes'; max: number; current: number };

/** UTF-8 bytes of an article's example questions: what a knowledge model's size and build time grow with. */
export const questionBytesOf = (article: Pick<ArticleRecord, 'questions'>): number =>
  article.questions.reduce((sum, q) => sum + Buffer.byteLength(q, 'utf8'), 0);

/**
 * Upserts an article unless that takes the tenant over a cap, atomically (concurrent upserts cannot together
 * pass a cap). KEYS: articleIds, article, kbVersion, kbQuestionBytes, kbChanged. ARGV: id, json, question
 * bytes, max articles, max question bytes. Returns {'ok'} or {limit, max, current}.
 */
const CAPPED_UPSERT = `
local exists = redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1
local maxArticles = tonumber(ARGV[4])
if not exists and maxArticles > 0 then
  local count = redis.call('SCARD', KEYS[1])
  if count >= maxArticles then return {'articles', maxArticles, count} end
end
local bytes = tonumber(ARGV[3])
local maxBytes = tonumber(ARGV[5])
if maxBytes > 0 then
  local total = 0
  for _, v in ipairs(redis.call('HVALS', KEYS[4])) do total = total + tonumber(v) end
  local old = tonumber(redis.call('HGET', KEYS[4], ARGV[1]) or '0')
  if total - old + bytes > maxBytes then return {'questionBytes', maxBytes, total - old} end
end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[4], ARGV[1], bytes)
redis.call('INCR', KEYS[3])
redis.call('PUBLISH', KEYS[5], 'upsert')
return {'ok'}
`;

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
        .hset(keys.kbQuestionBytes, article.id, questionBytesOf(article))
        .incr(keys.kbVersion)
        .publish(keys.kbChanged, 'upsert'),
    );
    return article;
  }

  /** Upserts many articles in one transaction (seeding, imports); no caps. */
  async upsertMany(tenantId: string, articles: ArticleRecord[]): Promise<void> {
    if (articles.length === 0) return;
    const keys = this.keys(tenantId);
    const multi = this.redis.multi();
    for (const article of articles) {
      multi
        .set(keys.article(article.id), JSON.stringify(article))
        .sadd(keys.articleIds, article.id)
        .hset(keys.kbQuestionBytes, article.id, questionBytesOf(article));
    }
    await execOrThrow(multi.incr(keys.kbVersion).publish(keys.kbChanged, 'upsert'));
  }

  /** `upsert`, unless it takes the tenant over one of `caps` (checked and written in one atomic step). */
  async upsertWithinCaps(tenantId: string, article: ArticleRecord, caps: KnowledgeBaseCaps): Promise<CappedUpsert> {
    const keys = this.keys(tenantId);
    await this.backfillQuestionBytes(tenantId);
    const reply = (await this.redis.eval(
      CAPPED_UPSERT,
      5,
      keys.articleIds,
      keys.article(article.id),
      keys.kbVersion,
      keys.kbQuestionBytes,
      keys.kbChanged,
      article.id,
      JSON.stringify(article),
      questionBytesOf(article),
      caps.maxArticles,
      caps.maxQuestionBytes,
    )) as [string, number?, number?];
    if (reply[0] === 'ok') return { ok: true, article };
    return { ok: false, limit: reply[0] as 'articles' | 'questionBytes', max: Number(reply[1]), current: Number(reply[2]) };
  }

  /** Articles written before question bytes were tracked get their entry (once; idempotent). */
  private async backfillQuestionBytes(tenantId: string): Promise<void> {
    const keys = this.keys(tenantId);
    const [tracked, articles] = await execOrThrow(this.redis.pipeline().hlen(keys.kbQuestionBytes).scard(keys.articleIds));
    if (Number(tracked) >= Number(articles)) return;
    const multi = this.redis.multi();
    for (const article of await this.list(tenantId)) multi.hsetnx(keys.kbQuestionBytes, article.id, questionBytesOf(article));
    await execOrThrow(multi);
  }

  async delete(tenantId: string, id: string): Promise<boolean> {
    const keys = this.keys(tenantId);
    const [removed] = await execOrThrow(
      this.redis
        .multi()
        .del(keys.article(id))
        .srem(keys.articleIds, id)
        .hdel(keys.kbQuestionBytes, id)
        .incr(keys.kbVersion)
        .publish(keys.kbChanged, 'delete'),
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
