/**
 * Live-update benchmark of the knowledge cache against a real Redis (`npm run bench:knowledge`):
 *
 *   node subgraphs/inference/dist/knowledge-live-bench.js [--redis redis://127.0.0.1:6379] [--rounds 10] [--inline] [--busy n]
 *
 * A writer (what the tenant subgraph does) and a reader replica (a KnowledgeCache with its own Redis
 * connections, as in another inference process) share only Redis. The tenant holds the 10,003-question
 * BANKING77 knowledge base. While a question loop keeps asking the replica (one question every ~2 ms,
 * each one `indexFor` + `search`, i.e. a Redis round trip included), each round upserts a new article
 * and measures the time from upsert returning until the replica ranks it first for a paraphrase, until it
 * answers the paraphrase confidently (at the default threshold), and until the retrained model serves;
 * then deletes it and measures until it is never returned. Question latencies are reported separately for
 * the time a rebuild is in flight. `--inline` trains on the main thread instead of the worker, for
 * comparison; `--busy n` runs n busy-looping processes meanwhile (a machine shared with other work).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { connectRedis, createLogger } from '@beedesk/runtime';
import { ArticleRepository, type ArticleRecord } from '@beedesk/tenant/data';
import { DEFAULT_CONFIDENCE_THRESHOLD } from '@beedesk/knowledge';
import { InlineModelBuilder, createModelBuilder } from '@beedesk/knowledge/builder';
import { articlesFrom, loadBanking77, percentile } from '@beedesk/knowledge/eval';
import { KnowledgeCache } from './knowledge-cache';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

const ms = (x: number): string => `${x.toFixed(1)} ms`;
/** Median / max of the rounds where it happened, and in how many it never did. */
const spread = (xs: readonly number[], never: number, rounds: number): string =>
  (xs.length ? `${ms(percentile(xs, 0.5))} / ${ms(Math.max(...xs))}` : '–') + (never ? ` (never in ${never} of ${rounds} rounds)` : '');
/** A round gives up when the retrained model does not serve within this. */
const ROUND_TIMEOUT_MS = 30_000;

const PROBES = [
  {
    title: 'Staking crypto for rewards',
    questions: [
      'How do I stake my crypto?',
      'Can I earn rewards by staking crypto?',
      'Is crypto staking available in the app?',
      'What staking rewards do you pay?',
    ],
    probe: 'can I stake crypto to earn rewards',
  },
  {
    title: 'Lounge access at airports',
    questions: [
      'Do I get airport lounge access?',
      'Which airport lounges can I use?',
      'Is lounge access included with my plan?',
      'How do I enter an airport lounge?',
    ],
    probe: 'can I use the airport lounge',
  },
  {
    title: 'Pet insurance',
    questions: ['Do you offer pet insurance?', 'Can I insure my dog?', 'Is my cat covered by insurance?', 'How much is pet insurance?'],
    probe: 'insurance for my dog',
  },
  {
    title: 'Mortgages',
    questions: [
      'Do you offer mortgages?',
      'Can I get a home loan?',
      'How do I apply for a mortgage?',
      'What is your mortgage interest rate?',
    ],
    probe: 'I want a mortgage for a house',
  },
  {
    title: 'Student accounts',
    questions: [
      'Do you have accounts for students?',
      'Is there a student account?',
      'Can I open an account as a student?',
      'What do students get?',
    ],
    probe: 'account for university students',
  },
];

async function main(): Promise<void> {
  const url = arg('redis') ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const rounds = Number(arg('rounds') ?? 10);
  const inline = process.argv.includes('--inline');
  // Other work on the machine: processes that spin until this benchmark ends them.
  const busy: ChildProcess[] = Array.from({ length: Number(arg('busy') ?? 0) }, () =>
    spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
  );
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
  const replica = new KnowledgeCache(new ArticleRepository(readerRedis, prefix), logger, {
    builder: inline ? new InlineModelBuilder() : createModelBuilder(),
  });
  await replica.listen();
  let t = performance.now();
  await replica.indexFor(tenant);
  const coldMs = performance.now() - t;
  console.log(
    `knowledge base: ${kb.length} articles, ${kb.reduce((n, a) => n + a.questions.length, 0)} questions; builder: ${inline ? 'inline (main thread)' : 'worker thread'}` +
      (busy.length ? `; ${busy.length} busy-looping processes alongside` : ''),
  );
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
  const answered: number[] = [];
  const gone: number[] = [];
  const builtAfter: number[] = [];
  const confidenceFound: number[] = [];
  const confidenceTrained: number[] = [];
  let neverFirst = 0;
  let neverConfident = 0;
  for (let r = 0; r < rounds; r++) {
    await new Promise((res) => setTimeout(res, 300));
    const probe = PROBES[r % PROBES.length]!;
    const id = `bench-new-${r}`;
    await writer.upsert(tenant, { id, title: probe.title, body: probe.title, questions: probe.questions, locale: 'en', updatedAt: now });
    t = performance.now();
    const version = await writer.version(tenant);
    // Ask until the replica serves a model retrained with the article (or the round times out).
    let firstAt: number | null = null;
    let confidentAt: number | null = null;
    let trainedAt: number | null = null;
    let trainedConfidence = 0;
    while (trainedAt === null && performance.now() - t < ROUND_TIMEOUT_MS) {
      const retrained = (replica.status(tenant)?.modelVersion ?? -1) >= version;
      const best = (await replica.indexFor(tenant)).search(probe.probe).best;
      const elapsed = performance.now() - t;
      const isNew = best?.article.id === id;
      if (isNew && firstAt === null) {
        firstAt = elapsed;
        confidenceFound.push(best.confidence);
      }
      if (isNew && confidentAt === null && best.confidence >= DEFAULT_CONFIDENCE_THRESHOLD) confidentAt = elapsed;
      if (retrained) {
        trainedAt = elapsed;
        trainedConfidence = isNew ? best.confidence : 0;
      } else await new Promise((res) => setTimeout(res, 1));
    }
    await replica.settled(tenant);
    builtAfter.push(trainedAt ?? performance.now() - t);
    confidenceTrained.push(trainedConfidence);
    if (firstAt === null) neverFirst++;
    else visible.push(firstAt);
    if (confidentAt === null) neverConfident++;
    else answered.push(confidentAt);
    await writer.delete(tenant, id);
    t = performance.now();
    for (;;) {
      const ranked = (await replica.indexFor(tenant)).search(probe.probe, { limit: 100, threshold: 0 }).ranked;
      if (!ranked.some((x) => x.article.id === id)) break;
      await new Promise((res) => setTimeout(res, 1));
    }
    gone.push(performance.now() - t);
    await replica.settled(tenant);
    console.log(
      `round ${r + 1}: new article ${firstAt === null ? 'never ranked first' : `first after ${ms(firstAt)} (confidence ${confidenceFound.at(-1)!.toFixed(2)})`}, ` +
        `${confidentAt === null ? 'never answered confidently' : `answered confidently after ${ms(confidentAt)}`}, retrained after ${ms(builtAfter[r]!)} ` +
        `(confidence ${trainedConfidence.toFixed(2)}); deleted one gone after ${ms(gone[r]!)}`,
    );
  }
  running = false;
  await loop;
  for (const child of busy) child.kill();

  const rows: Array<[string, string]> = [
    ['upsert → ranked first on the other replica (median / max)', spread(visible, neverFirst, rounds)],
    [`upsert → answered confidently (≥ ${DEFAULT_CONFIDENCE_THRESHOLD}) (median / max)`, spread(answered, neverConfident, rounds)],
    [
      'confidence when first ranked first / once retrained (median)',
      `${percentile(confidenceFound, 0.5).toFixed(2)} / ${percentile(confidenceTrained, 0.5).toFixed(2)}`,
    ],
    ['upsert → retrained model serving (median / max)', `${ms(percentile(builtAfter, 0.5))} / ${ms(Math.max(...builtAfter))}`],
    ['delete → never returned on the other replica (median / max)', `${ms(percentile(gone, 0.5))} / ${ms(Math.max(...gone))}`],
    [
      'question latency, no rebuild (p50 / p99 / max, n)',
      `${ms(percentile(idle, 0.5))} / ${ms(percentile(idle, 0.99))} / ${ms(Math.max(...idle))}, ${idle.length}`,
    ],
    [
      'question latency during a rebuild (p50 / p99 / max, n)',
      `${ms(percentile(rebuilding, 0.5))} / ${ms(percentile(rebuilding, 0.99))} / ${ms(Math.max(0, ...rebuilding))}, ${rebuilding.length}`,
    ],
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
