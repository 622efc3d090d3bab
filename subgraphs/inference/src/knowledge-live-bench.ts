/**
 * Live-update benchmark of the knowledge cache against a real Redis:
 *
 *   node subgraphs/inference/dist/knowledge-live-bench.js [--redis redis://127.0.0.1:6379] [--rounds 5] [--inline]
 *
 * A writer (what the tenant subgraph does) and a reader replica (a KnowledgeCache with its own Redis
 * connections, as in another inference process) share only Redis. The tenant holds the 10,003-question
 * BANKING77 knowledge base. While a question loop keeps asking the replica (one question every ~2 ms,
 * each one `indexFor` + `search`, i.e. a Redis round trip included), each round upserts a new article
 * and measures the time from upsert returning until the replica answers a paraphrase of it, then deletes
 * it and measures until it is never returned. Question latencies are reported separately for the time a
 * rebuild is in flight. `--inline` trains on the main thread instead of the worker, for comparison.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ArticleRepository, connectRedis, createLogger, type ArticleRecord } from '@beedesk/runtime';
import { InlineModelBuilder, createModelBuilder } from './knowledge/builder';
import { articlesFrom, loadBanking77 } from './knowledge/eval';
import { KnowledgeCache } from './knowledge-cache';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? 0;
}
const ms = (x: number): string => `${x.toFixed(1)} ms`;

const PROBES = [
  { title: 'Staking crypto for rewards', questions: ['How do I stake my crypto?', 'Can I earn rewards by staking crypto?', 'Is crypto staking available in the app?', 'What staking rewards do you pay?'], probe: 'can I stake crypto to earn rewards' },
  { title: 'Lounge access at airports', questions: ['Do I get airport lounge access?', 'Which airport lounges can I use?', 'Is lounge access included with my plan?', 'How do I enter an airport lounge?'], probe: 'can I use the airport lounge' },
  { title: 'Pet insurance', questions: ['Do you offer pet insurance?', 'Can I insure my dog?', 'Is my cat covered by insurance?', 'How much is pet insurance?'], probe: 'insurance for my dog' },
];

async function main(): Promise<void> {
  const url = arg('redis') ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const rounds = Number(arg('rounds') ?? 5);
  const inline = process.argv.includes('--inline');
  const prefix = `kbbench-${process.pid}`;
  const tenant = 'bench';
  const repoCopy = resolve(__dirname, '../../../ops/demo/data/banking77/train.csv');
  const data = arg('data') ?? (existsSync(repoCopy) ? repoCopy : resolve(__dirname, '../../../../shared/data/banking77/train.csv'));
  const writerRedis = await connectRedis(url);
  const readerRedis = await connectRedis(url);
  const writer = new ArticleRepository(writerRedis, prefix);
  const now = new Date().toISOString();
  const kb = articlesFrom(loadBanking77(data)).map((a): ArticleRecord => ({ ...a, updatedAt: now }));
  await writer.upsertMany(tenant, kb);
  const questions = kb.flatMap((a) => a.questions.slice(0, 20));

  const logger = createLogger('bench', 'warn');
  const replica = new KnowledgeCache(new ArticleRepository(readerRedis, prefix), logger, { builder: inline ? new InlineModelBuilder() : createModelBuilder() });
  await replica.listen();
  let t = performance.now();
  await replica.indexFor(tenant);
  const coldMs = performance.now() - t;
  console.log(`knowledge base: ${kb.length} articles, ${kb.reduce((n, a) => n + a.questions.length, 0)} questions; builder: ${inline ? 'inline (main thread)' : 'worker thread'}`);
  console.log(`first index on the replica (cold build, waited for): ${ms(coldMs)}`);

  // The question loop.
  const idle: number[] = [];
  const rebuilding: number[] = [];
  let running = true;
  let asked = 0;
  const loop = (async () => {
    while (running) {
      const q = questions[asked++ % questions.length] as string;
      const busy = replica.status(tenant)?.building ?? false;
      const start = performance.now();
      (await replica.indexFor(tenant)).search(q);
      const took = performance.now() - start;
      (busy || (replica.status(tenant)?.building ?? false) ? rebuilding : idle).push(took);
      await new Promise((r) => setTimeout(r, 2));
    }
  })();

  const visible: number[] = [];
  const gone: number[] = [];
  const builtAfter: number[] = [];
  for (let r = 0; r < rounds; r++) {
    await new Promise((res) => setTimeout(res, 300));
    const probe = PROBES[r % PROBES.length]!;
    const id = `bench-new-${r}`;
    await writer.upsert(tenant, { id, title: probe.title, body: probe.title, questions: probe.questions, locale: 'en', updatedAt: now });
    t = performance.now();
    for (;;) {
      if ((await replica.indexFor(tenant)).search(probe.probe).best?.article.id === id) break;
      await new Promise((res) => setTimeout(res, 1));
    }
    visible.push(performance.now() - t);
    await replica.settled(tenant);
    builtAfter.push(performance.now() - t);
    await writer.delete(tenant, id);
    t = performance.now();
    for (;;) {
      const ranked = (await replica.indexFor(tenant)).search(probe.probe, { limit: 100, threshold: 0 }).ranked;
      if (!ranked.some((x) => x.article.id === id)) break;
      await new Promise((res) => setTimeout(res, 1));
    }
    gone.push(performance.now() - t);
    await replica.settled(tenant);
    console.log(`round ${r + 1}: new article answerable after ${ms(visible[r]!)}, deleted one gone after ${ms(gone[r]!)}`);
  }
  running = false;
  await loop;

  const rows: Array<[string, string]> = [
    ['upsert → answerable on the other replica (median / max)', `${ms(percentile(visible, 0.5))} / ${ms(Math.max(...visible))}`],
    ['delete → never returned on the other replica (median / max)', `${ms(percentile(gone, 0.5))} / ${ms(Math.max(...gone))}`],
    ['question latency, no rebuild (p50 / p99 / max, n)', `${ms(percentile(idle, 0.5))} / ${ms(percentile(idle, 0.99))} / ${ms(Math.max(...idle))}, ${idle.length}`],
    ['question latency during a rebuild (p50 / p99 / max, n)', `${ms(percentile(rebuilding, 0.5))} / ${ms(percentile(rebuilding, 0.99))} / ${ms(Math.max(0, ...rebuilding))}, ${rebuilding.length}`],
  ];
  const width = Math.max(...rows.map((x) => x[0].length));
  console.log('');
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);

  await replica.close();
  const keys = await writerRedis.keys(`${prefix}:*`);
  if (keys.length) await writerRedis.del(...keys);
  await writerRedis.quit();
  await readerRedis.quit();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
