import { createInMemoryRedis, createLogger } from '@beedesk/runtime';
import { ArticleRepository, type ArticleRecord } from '@beedesk/tenant/data';
import { BuildPool, BuildTimeoutError } from './build-pool';
import type { KnowledgeArticle } from '@beedesk/knowledge';
import {
  BUILD_WORKER_SCRIPT,
  InlineModelBuilder,
  WorkerModelBuilder,
  type BuildResult,
  type ModelBuilder,
} from '@beedesk/knowledge/builder';
import { KnowledgeCache } from './knowledge-cache';

const article = (id: string, questions: string[]): KnowledgeArticle => ({
  id,
  title: `About ${id}`,
  body: `${id}.`,
  questions,
  locale: 'en',
});
const SMALL = [article('card', ['where is my card', 'card not arrived']), article('password', ['forgot my password', 'reset password'])];

/** A builder whose builds of `stuck` never end (until closed); others are real in-thread builds. */
class StuckFor implements ModelBuilder {
  readonly kind = 'inline';
  closed = false;
  readonly inner = new InlineModelBuilder();
  constructor(private readonly stuck: string) {}
  build(tenantId: string, articles: readonly KnowledgeArticle[]): Promise<BuildResult> {
    return tenantId === this.stuck ? new Promise<BuildResult>(() => undefined) : this.inner.build(tenantId, articles);
  }
  forget(): void {}
  async close(): Promise<void> {
    this.closed = true;
  }
}

describe('BuildPool', () => {
  it('time-boxes a build: the stuck builder is closed and replaced, the next build runs on the fresh one', async () => {
    const created: StuckFor[] = [];
    const pool = new BuildPool({ size: 1, timeoutMs: 100, createSlot: () => (created.push(new StuckFor('stuck')), created.at(-1)!) });
    const started = Date.now();
    const stuck = pool.build('stuck', SMALL);
    // Queued behind the stuck one on the only builder: waits for the time box, not forever.
    const other = pool.build('other', SMALL);
    await expect(stuck).rejects.toBeInstanceOf(BuildTimeoutError);
    expect((await other).model.articles.map((a) => a.id)).toEqual(['card', 'password']);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(created).toHaveLength(2);
    expect(created[0]!.closed).toBe(true);
    expect(created[1]!.closed).toBe(false);
    await pool.close();
  });

  it('does not serialise builds behind one slow tenant: another tenant builds on another builder meanwhile', async () => {
    const pool = new BuildPool({ size: 2, timeoutMs: 5_000, createSlot: () => new StuckFor('stuck') });
    const stuck = pool.build('stuck', SMALL);
    stuck.catch(() => undefined);
    const started = Date.now();
    const other = await pool.build('other', SMALL);
    expect(other.model.articles).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(1_000);
    await pool.close();
  });

  it('sends a tenant back to the builder that holds its warm-start state when it is free', async () => {
    const pool = new BuildPool({ size: 2, timeoutMs: 5_000, createSlot: () => new InlineModelBuilder() });
    expect((await pool.build('t', SMALL)).warm).toBe(false);
    expect((await pool.build('u', SMALL)).warm).toBe(false);
    expect((await pool.build('t', [...SMALL, article('fees', ['transfer fee'])])).warm).toBe(true);
    pool.forget('t');
    expect((await pool.build('t', SMALL)).warm).toBe(false);
    await pool.close();
  });
});

// The knowledge package's built worker script (`npm run build` runs before the tests); never skipped.
const script = BUILD_WORKER_SCRIPT;
describe('KnowledgeCache with worker builds', () => {
  const logger = createLogger('test', 'silent');
  const redis = createInMemoryRedis();
  const prefix = `bp${Math.random().toString(36).slice(2, 8)}`;
  const repo = new ArticleRepository(redis, prefix);
  const now = new Date(0).toISOString();
  const words = ['card', 'money', 'transfer', 'account', 'pin', 'limit', 'fee', 'refund', 'loan', 'atm', 'cash', 'rate'];
  /** A knowledge base whose build takes seconds of CPU (~60k questions). */
  const huge: ArticleRecord[] = Array.from({ length: 300 }, (_, a) => ({
    id: `a${a}`,
    title: `Topic ${a}`,
    body: `About topic ${a}.`,
    questions: Array.from({ length: 200 }, (_, q) => `${words[(a + q) % 12]} ${words[(a * 7 + q) % 12]} question ${a} ${q} topic${a}`),
    locale: 'en',
    updatedAt: now,
  }));
  const small: ArticleRecord[] = SMALL.map((a) => ({ ...a, updatedAt: now }));

  it("a huge tenant's build neither delays another tenant's first answer nor outlives its time box", async () => {
    await repo.upsertMany('t-huge', huge);
    await repo.upsertMany('t-small', small);
    const cache = new KnowledgeCache(new ArticleRepository(redis.duplicate(), prefix), logger, {
      listen: false,
      buildWorkers: 2,
      buildTimeoutMs: 1_500,
      createBuilder: () => new WorkerModelBuilder(script),
    });
    try {
      const started = Date.now();
      const hugeIndex = cache.indexFor('t-huge').then((index) => ({ index, ms: Date.now() - started }));
      await new Promise((r) => setTimeout(r, 50)); // the huge build is under way
      const smallStarted = Date.now();
      const smallIndex = await cache.indexFor('t-small');
      const smallMs = Date.now() - smallStarted;
      expect(smallIndex.search('I forgot my password').best?.article.id).toBe('password');
      expect(smallMs).toBeLessThan(1_200);

      const { index, ms } = await hugeIndex;
      // The first question waited for the time box, not for the whole build, and gets no answer instead of an inline build.
      expect(ms).toBeLessThan(1_500 + 1_500);
      expect(cache.status('t-huge')).toMatchObject({ buildFailed: true, building: false, modelVersion: -1 });
      const searchStarted = Date.now();
      expect(index.search('card money question 3 7').best).toBeNull();
      expect(Date.now() - searchStarted).toBeLessThan(50);
    } finally {
      await cache.close();
    }
  }, 30_000);
});
