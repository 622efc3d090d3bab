import { createInMemoryRedis, createLogger, tenantKeys } from '@beedesk/runtime';
import { ArticleRepository, DEFAULT_ANSWER_CONFIDENCE_THRESHOLD, TenantRepository, type ArticleRecord } from '@beedesk/tenant/data';
import { DEFAULT_CONFIDENCE_THRESHOLD, type KnowledgeArticle } from '@beedesk/knowledge';
import {
  BUILD_WORKER_SCRIPT,
  InlineModelBuilder,
  WorkerModelBuilder,
  type BuildResult,
  type ModelBuilder,
} from '@beedesk/knowledge/builder';
import { KnowledgeCache } from './knowledge-cache';

const logger = createLogger('test', 'silent');
const now = new Date(0).toISOString();
const rec = (id: string, title: string, questions: string[]): ArticleRecord => ({
  id,
  title,
  body: `${title}.`,
  questions,
  locale: 'en',
  updatedAt: now,
});

const KB: ArticleRecord[] = [
  rec('card', 'When will my card arrive', ['my card has not arrived', 'where is my new card', 'card still not delivered']),
  rec('password', 'Reset your password', ['I forgot my password', 'reset my password', 'cannot log in']),
  rec('fees', 'Transfer fees', ['how much does a transfer cost', 'fee for sending money', 'why was I charged for a transfer']),
];
const REFUND = rec('refund', 'Refunds', ['how do I get a refund', 'the shop will not refund me', 'I want my money back']);

/** Builds in-thread, but only when released: lets a test look at the index while a build is in flight. */
class GatedBuilder implements ModelBuilder {
  readonly kind = 'inline';
  private readonly inner = new InlineModelBuilder();
  private gate: Promise<void> = Promise.resolve();
  private release: () => void = () => undefined;
  builds = 0;
  hold(): void {
    this.gate = new Promise((resolve) => (this.release = resolve));
  }
  open(): void {
    this.release();
    this.gate = Promise.resolve();
  }
  async build(tenantId: string, articles: readonly KnowledgeArticle[]): Promise<BuildResult> {
    await this.gate;
    this.builds++;
    return this.inner.build(tenantId, articles);
  }
  forget(tenantId: string): void {
    this.inner.forget(tenantId);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

const until = async (check: () => boolean, timeoutMs = 5000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('KnowledgeCache', () => {
  const redis = createInMemoryRedis();
  const prefix = `kc${Math.random().toString(36).slice(2, 8)}`;
  const repo = new ArticleRepository(redis, prefix);
  const caches: KnowledgeCache[] = [];
  const cache = (builder: ModelBuilder = new InlineModelBuilder(), listen = true) => {
    // Each "replica" has its own connection to the shared data.
    const c = new KnowledgeCache(new ArticleRepository(redis.duplicate(), prefix), logger, { builder, listen });
    caches.push(c);
    return c;
  };

  afterAll(async () => {
    for (const c of caches) await c.close();
  });

  it('keeps the platform default threshold in one place', () => {
    expect(DEFAULT_CONFIDENCE_THRESHOLD).toBe(DEFAULT_ANSWER_CONFIDENCE_THRESHOLD);
  });

  it('answers with the tenant’s articles only; an empty knowledge base answers nothing', async () => {
    await repo.upsertMany('t-iso-a', KB);
    await repo.upsert('t-iso-b', REFUND);
    const c = cache();
    const a = await c.indexFor('t-iso-a');
    expect(a.search('I forgot my password').best?.article.id).toBe('password');
    expect(a.search('I want a refund', { limit: 10, threshold: 0 }).ranked.map((r) => r.article.id)).not.toContain('refund');
    const b = await c.indexFor('t-iso-b');
    expect(b.search('I forgot my password', { limit: 10 }).ranked.map((r) => r.article.id)).toEqual(['refund']);
    const empty = await c.indexFor('t-iso-none');
    expect(empty.search('I forgot my password')).toEqual({ confident: false, best: null, ranked: [], usedContext: false });
  });

  it('serves the old model while training: a deleted article is never returned, an edited one as it is now', async () => {
    await repo.upsertMany('t-live', KB);
    const builder = new GatedBuilder();
    const c = cache(builder, false);
    expect((await c.indexFor('t-live')).search('I forgot my password').best?.article.id).toBe('password');

    builder.hold();
    await repo.delete('t-live', 'password');
    await repo.upsert('t-live', { ...KB[0]!, title: 'Card delivery times' });
    const during = await c.indexFor('t-live');
    expect(c.status('t-live')?.building).toBe(true);
    // The new title is a training example: the edited article is learned again by an interim patch.
    expect(c.status('t-live')?.patched).toEqual(['card']);
    for (const q of ['I forgot my password', 'reset my password', 'password']) {
      const r = during.search(q, { limit: 10, threshold: 0 });
      expect(r.ranked.map((x) => x.article.id)).not.toContain('password');
      expect(r.ranked).toHaveLength(2);
    }
    expect(during.search('my card has not arrived').best?.article.title).toBe('Card delivery times');

    builder.open();
    await c.settled('t-live');
    const after = await c.indexFor('t-live');
    expect(c.status('t-live')).toEqual({
      servedVersion: expect.any(Number),
      modelVersion: c.status('t-live')?.servedVersion,
      untrained: [],
      patched: [],
      building: false,
      buildFailed: false,
      bytes: expect.any(Number),
    });
    expect(
      after
        .search('password', { limit: 10, threshold: 0 })
        .ranked.map((x) => x.article.id)
        .sort(),
    ).toEqual(['card', 'fees']);
  });

  it('a new article is answered by the next question while the model trains (interim patch), until the new model replaces it', async () => {
    await repo.upsertMany('t-patch', KB);
    const builder = new GatedBuilder();
    const c = cache(builder, false);
    await c.indexFor('t-patch');
    expect(builder.builds).toBe(1);

    builder.hold();
    await repo.upsert('t-patch', REFUND);
    const during = await c.indexFor('t-patch');
    expect(c.status('t-patch')).toMatchObject({ building: true, untrained: [], patched: ['refund'] });
    const refund = during.search('the shop will not give me a refund');
    expect(refund.best?.article.id).toBe('refund');
    expect(refund.confident).toBe(true);
    expect(during.search('I forgot my password').best?.article.id).toBe('password');

    // Deleted before the model that knows it is trained: never returned again.
    await repo.delete('t-patch', 'refund');
    const deleted = await c.indexFor('t-patch');
    expect(c.status('t-patch')?.patched).toEqual([]);
    expect(deleted.search('the shop will not give me a refund', { limit: 10, threshold: 0 }).ranked.map((r) => r.article.id)).not.toContain(
      'refund',
    );

    builder.open();
    await c.settled('t-patch');
    // One build for the change and (coalesced) one for the newest set: never one per change.
    expect(builder.builds).toBeLessThanOrEqual(3);
    expect(c.status('t-patch')).toMatchObject({
      building: false,
      untrained: [],
      patched: [],
      modelVersion: c.status('t-patch')?.servedVersion,
    });
  });

  it('a change on one replica reaches another through pub/sub before its next question', async () => {
    await repo.upsertMany('t-pubsub', KB);
    const b = cache();
    await b.listen();
    await b.indexFor('t-pubsub');
    const before = b.status('t-pubsub')?.servedVersion ?? -1;
    await repo.upsert('t-pubsub', REFUND); // "replica A" (any writer)
    // Served (patched) on the notification, without a question to trigger it.
    await until(() => (b.status('t-pubsub')?.servedVersion ?? -1) > before);
    expect(b.status('t-pubsub')?.untrained).toEqual([]);
    await until(() => (b.status('t-pubsub')?.modelVersion ?? -1) > before && !b.status('t-pubsub')?.building);
    expect(b.status('t-pubsub')?.untrained).toEqual([]);
    expect((await b.indexFor('t-pubsub')).search('the shop will not give me a refund').best?.article.id).toBe('refund');
    await repo.delete('t-pubsub', 'refund');
    await until(() => (b.status('t-pubsub')?.servedVersion ?? -1) > before + 1);
    expect((await b.indexFor('t-pubsub')).search('refund', { limit: 10, threshold: 0 }).ranked.map((r) => r.article.id)).not.toContain(
      'refund',
    );
  });

  it('an erased knowledge base (kb-version gone with its keys) is never answered from the old model, with or without a notification', async () => {
    const erase = async (tenantId: string) => {
      // What eraseTenant does to this tenant's knowledge base: every key goes, then a kb-changed notification.
      const keys = tenantKeys(prefix, tenantId);
      await redis.del(keys.kbVersion, keys.articleIds, ...KB.map((a) => keys.article(a.id)), keys.article(REFUND.id));
      await redis.publish(keys.kbChanged, 'erase');
    };
    const gone = (index: { search: (q: string, o: { limit: number; threshold: number }) => { ranked: unknown[] } }) =>
      ['I forgot my password', 'my card has not arrived', 'refund'].every(
        (q) => index.search(q, { limit: 10, threshold: 0 }).ranked.length === 0,
      );

    await repo.upsertMany('t-erase-poll', KB);
    await repo.upsert('t-erase-poll', REFUND);
    const polling = cache(new InlineModelBuilder(), false);
    expect((await polling.indexFor('t-erase-poll')).search('I forgot my password').best?.article.id).toBe('password');
    const bytesBefore = polling.bytes;
    expect(polling.status('t-erase-poll')?.bytes).toBeGreaterThan(0);
    await erase('t-erase-poll');
    expect(gone(await polling.indexFor('t-erase-poll'))).toBe(true);
    // Dropped: nothing of the erased tenant stays in this replica's memory.
    expect(polling.status('t-erase-poll')).toBeNull();
    expect(polling.tenants).not.toContain('t-erase-poll');
    expect(polling.bytes).toBeLessThan(bytesBefore);
    // The tenant starts again: its new articles are trained on their own.
    await repo.upsert('t-erase-poll', REFUND);
    await polling.settled('t-erase-poll');
    const again = await polling.indexFor('t-erase-poll');
    expect(again.search('I forgot my password', { limit: 10, threshold: 0 }).ranked.map((r) => r.article.id)).toEqual(['refund']);
    expect(polling.status('t-erase-poll')).toMatchObject({ servedVersion: 1, modelVersion: 1, building: false });

    await repo.upsertMany('t-erase-sub', KB);
    const listening = cache();
    await listening.listen();
    await listening.indexFor('t-erase-sub');
    await erase('t-erase-sub');
    await until(() => listening.status('t-erase-sub') === null);
    expect(listening.bytes).toBe(0);
    expect(gone(await listening.indexFor('t-erase-sub'))).toBe(true);
  });

  it('without notifications the version check still finds changes on the next question', async () => {
    await repo.upsertMany('t-poll', KB);
    const c = cache(new InlineModelBuilder(), false);
    await c.indexFor('t-poll');
    await repo.upsert('t-poll', REFUND);
    await c.indexFor('t-poll'); // sees the new version, trains in the background
    await c.settled('t-poll');
    expect((await c.indexFor('t-poll')).search('how can I get my money back').best?.article.id).toBe('refund');
  });

  it('keeps tenants within its memory budget, dropping the least recently used first, and reloads a dropped one on its next question', async () => {
    for (const t of ['t-lru-1', 't-lru-2', 't-lru-3']) await repo.upsertMany(t, KB);
    // Measure one tenant, then allow a little more than two.
    const probe = cache(new InlineModelBuilder(), false);
    await probe.indexFor('t-lru-1');
    const one = probe.bytes;
    expect(one).toBeGreaterThan(KB.length * 8);
    const c = new KnowledgeCache(new ArticleRepository(redis.duplicate(), prefix), logger, {
      listen: false,
      maxBytes: Math.floor(one * 2.5),
    });
    caches.push(c);
    await c.indexFor('t-lru-1');
    await c.indexFor('t-lru-2');
    await c.indexFor('t-lru-1'); // now t-lru-2 is the least recently used
    expect(c.tenants).toEqual(['t-lru-2', 't-lru-1']);
    await c.indexFor('t-lru-3');
    expect(c.tenants).toEqual(['t-lru-1', 't-lru-3']);
    expect(c.status('t-lru-2')).toBeNull();
    expect(c.bytes).toBeLessThanOrEqual(Math.floor(one * 2.5));
    // Dropped is not lost: the next question loads and trains it again.
    expect((await c.indexFor('t-lru-2')).search('I forgot my password').best?.article.id).toBe('password');
    expect(c.tenants).toEqual(['t-lru-3', 't-lru-2']);
  });

  it('applies the tenant’s answer-confidence threshold', async () => {
    await repo.upsertMany('t-threshold', KB);
    const tenants = new TenantRepository(redis, prefix);
    const c = cache();
    expect((await c.indexFor('t-threshold')).threshold).toBe(DEFAULT_CONFIDENCE_THRESHOLD);
    await tenants.update('t-threshold', { answerConfidenceThreshold: 1 });
    const strict = await c.indexFor('t-threshold');
    expect(strict.threshold).toBe(1);
    expect(strict.search('card').confident).toBe(false);
    await tenants.update('t-threshold', { answerConfidenceThreshold: 0 });
    expect((await c.indexFor('t-threshold')).search('card').confident).toBe(true);
    expect(await c.thresholdFor('t-threshold')).toBe(0);
  });
});

// The knowledge package's built worker script (`npm run build` runs before the tests); never skipped.
const script = BUILD_WORKER_SCRIPT;
describe('WorkerModelBuilder', () => {
  it('trains in a worker thread, warm-starts the next build and hands back a working model', async () => {
    const builder = new WorkerModelBuilder(script);
    try {
      const articles: KnowledgeArticle[] = KB.map(({ updatedAt: _u, ...a }) => a);
      const first = await builder.build('t', articles);
      expect(first.warm).toBe(false);
      const second = await builder.build('t', [...articles, (({ updatedAt: _u, ...a }) => a)(REFUND)]);
      expect(second.warm).toBe(true);
      const vector = second.model.vectorise('the shop will not refund me');
      const { probabilities } = second.model.classify(vector);
      const best = probabilities.indexOf(Math.max(...probabilities));
      expect(second.model.articles[best]?.id).toBe('refund');
    } finally {
      await builder.close();
    }
  });
});
