/**
 * `npm run eval`: stratified k-fold cross-validation of the knowledge engine on BANKING77.
 * Each intent becomes one article whose example questions are that intent's questions in the training
 * folds; the held-out fold's questions are asked and scored. Nothing from a held-out fold is ever seen
 * by the index it is asked against.
 *
 *   node subgraphs/knowledge/dist/eval.js (npm run eval) [--data path/train.csv] [--folds 5] [--seed 7] [--threshold 0.5]
 *                               [--sample 0.2] [--calibrate] [--options '{"classifier":{"epochs":8}}']
 *                               [--patch 4 [--patch-questions 5]]
 * `--patch n`: instead, per fold, n intents are left out of a trained model and then added by an interim
 * patch (patch.ts), which is compared with a model trained on all of them; `--patch-questions q` gives
 * the added intents only q example questions (a freshly written article), in both.
 * Memory is measured after a forced GC (--expose-gc, or enabled at run time through v8.setFlagsFromString).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { rng, shuffleInPlace } from './classifier';
import { warmStartFrom } from './builder';
import { DEFAULT_CONFIDENCE_THRESHOLD, KnowledgeIndex, Model, type KnowledgeArticle, type KnowledgeIndexOptions } from './index';

export interface LabelledQuestion {
  text: string;
  label: string;
}

interface Args {
  data: string;
  folds: number;
  seed: number;
  threshold: number;
  sample: number;
  calibrate: boolean;
  options: KnowledgeIndexOptions;
  /** Intents added by an interim patch per fold (0: the normal evaluation). */
  patch: number;
  patchQuestions: number;
}

/** Minimal RFC 4180 CSV parser (quoted fields, doubled quotes, commas and newlines inside quotes). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => r.length > 1 || (r[0] ?? '') !== '');
}

export function loadBanking77(path: string): LabelledQuestion[] {
  const rows = parseCsv(readFileSync(path, 'utf8'));
  const header = rows.shift() ?? [];
  const ti = header.indexOf('text');
  const li = header.indexOf('category');
  if (ti < 0 || li < 0) throw new Error(`${path}: expected a text,category header`);
  return rows.map((r) => ({ text: r[ti] ?? '', label: r[li] ?? '' })).filter((q) => q.text && q.label);
}

/** card_arrival -> "Card arrival": the stand-in title/body for an intent article. */
export function humanise(label: string): string {
  const s = label.replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function articlesFrom(questions: readonly LabelledQuestion[]): KnowledgeArticle[] {
  const byLabel = new Map<string, string[]>();
  for (const q of questions) {
    const list = byLabel.get(q.label) ?? [];
    list.push(q.text);
    byLabel.set(q.label, list);
  }
  return [...byLabel].map(([label, qs]) => ({ id: label, title: humanise(label), body: humanise(label), questions: qs, locale: 'en' }));
}

/** Fold number per question, stratified: each label's questions are shuffled then dealt round-robin. */
export function stratifiedFolds(questions: readonly LabelledQuestion[], k: number, seed: number): number[] {
  const random = rng(seed);
  const folds = new Array<number>(questions.length).fill(0);
  const byLabel = new Map<string, number[]>();
  questions.forEach((q, i) => {
    const list = byLabel.get(q.label) ?? [];
    list.push(i);
    byLabel.set(q.label, list);
  });
  let offset = 0;
  for (const idx of byLabel.values()) {
    shuffleInPlace(idx, random);
    // Rotating the starting fold per label keeps fold sizes balanced.
    idx.forEach((q, n) => (folds[q] = (n + offset) % k));
    offset += idx.length;
  }
  return folds;
}

interface Outcome {
  top1: boolean;
  top3: boolean;
  confidence: number;
  latencyMs: number;
  /** Log of the true article's probability under the calibrated model (for temperature fitting). */
  logits?: { scores: number[]; truth: number };
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const sd = (xs: readonly number[]): number => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1));
};
/** Nearest-rank percentile (p in 0..1); 0 for no values. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? 0;
}
const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;

function parseArgs(argv: readonly string[]): Args {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const repoCopy = resolve(__dirname, '../../../ops/demo/data/banking77/train.csv');
  const shared = resolve(__dirname, '../../../../shared/data/banking77/train.csv');
  const data = get('data') ?? (existsSync(repoCopy) ? repoCopy : shared);
  const options = get('options');
  return {
    data,
    folds: Number(get('folds') ?? 5),
    seed: Number(get('seed') ?? 7),
    threshold: Number(get('threshold') ?? DEFAULT_CONFIDENCE_THRESHOLD),
    sample: Number(get('sample') ?? 1),
    calibrate: argv.includes('--calibrate'),
    options: options ? (JSON.parse(options) as KnowledgeIndexOptions) : {},
    patch: Number(get('patch') ?? 0),
    patchQuestions: Number(get('patch-questions') ?? Infinity),
  };
}

export function main(argv: readonly string[] = process.argv.slice(2)): void {
  const args = parseArgs(argv);
  const all = loadBanking77(args.data);
  const folds = stratifiedFolds(all, args.folds, args.seed);
  const random = rng(args.seed + 1);
  console.log(
    `BANKING77: ${all.length} questions, ${new Set(all.map((q) => q.label)).size} intents, ${args.folds}-fold stratified CV (seed ${args.seed}) from ${args.data}`,
  );
  if (args.patch > 0) {
    patchEval(args, all, folds);
    return;
  }

  const perFold: Outcome[][] = [];
  const buildMs: number[] = [];
  let unrelatedContextHurt = 0;
  let unrelatedContextAsked = 0;
  for (let f = 0; f < args.folds; f++) {
    const train = all.filter((_, i) => folds[i] !== f);
    const test = all.filter((_, i) => folds[i] === f && (args.sample >= 1 || random() < args.sample));
    const index = new KnowledgeIndex(args.options);
    for (const a of articlesFrom(train)) index.upsert(a);
    const t0 = performance.now();
    index.rebuild();
    buildMs.push(performance.now() - t0);
    const outcomes: Outcome[] = [];
    const limit = args.calibrate ? index.size : 3;
    for (const q of test) {
      const t = process.hrtime.bigint();
      const r = index.search(q.text, { limit, threshold: args.threshold });
      const latencyMs = Number(process.hrtime.bigint() - t) / 1e6;
      const ids = r.ranked.map((x) => x.article.id);
      const outcome: Outcome = {
        top1: ids[0] === q.label,
        top3: ids.slice(0, 3).includes(q.label),
        confidence: r.best?.confidence ?? 0,
        latencyMs,
      };
      if (args.calibrate) outcome.logits = { scores: r.ranked.map((x) => x.score), truth: ids.indexOf(q.label) };
      outcomes.push(outcome);
    }
    // Context must not hurt a self-contained question: ask again with an unrelated previous question.
    for (let i = 0; i < test.length; i += 5) {
      const q = test[i] as { text: string; label: string };
      const other = test[(i + 1 + Math.floor(random() * (test.length - 1))) % test.length] as { text: string; label: string };
      if (other.label === q.label) continue;
      const plain = index.search(q.text, { threshold: args.threshold });
      const withCtx = index.search(q.text, { context: [other.text], threshold: args.threshold });
      unrelatedContextAsked++;
      // Hurt = answered confidently and right without context, but not with it.
      const plainOk = plain.confident && plain.best?.article.id === q.label;
      const ctxOk = withCtx.confident && withCtx.best?.article.id === q.label;
      if (plainOk && !ctxOk) unrelatedContextHurt++;
    }
    perFold.push(outcomes);
    const acc = mean(outcomes.map((o) => (o.top1 ? 1 : 0)));
    console.log(
      `  fold ${f + 1}/${args.folds}: train ${train.length}, test ${test.length}, top-1 ${pct(acc)}, build ${buildMs[f]?.toFixed(0)} ms`,
    );
  }

  const flat = perFold.flat();
  const top1 = perFold.map((o) => mean(o.map((x) => (x.top1 ? 1 : 0))));
  const top3 = perFold.map((o) => mean(o.map((x) => (x.top3 ? 1 : 0))));
  const confident = flat.filter((o) => o.confidence >= args.threshold);
  const cbw = confident.filter((o) => !o.top1).length / flat.length;
  const coverage = confident.length / flat.length;
  const latencies = flat.map((o) => o.latencyMs);

  // Full-KB build time and memory.
  const gc = exposeGc();
  gc?.();
  const before = process.memoryUsage();
  const full = new KnowledgeIndex(args.options);
  for (const a of articlesFrom(all)) full.upsert(a);
  const t0 = performance.now();
  full.rebuild();
  const fullBuildMs = performance.now() - t0;
  gc?.();
  const after = process.memoryUsage();
  const heapMb = (after.heapUsed - before.heapUsed) / 2 ** 20;
  // Typed arrays live outside the JS heap; their exact size is known, so count it directly.
  const bufMb = full.modelBytes / 2 ** 20;
  full.search('warm up');

  const rows: Array<[string, string]> = [
    ['top-1 accuracy (mean ± sd over folds)', `${pct(mean(top1))} ± ${pct(sd(top1))}`],
    ['top-3 accuracy', `${pct(mean(top3))} ± ${pct(sd(top3))}`],
    [`confident-but-wrong @ ${args.threshold} (of all questions)`, pct(cbw)],
    [`coverage @ ${args.threshold} (answered confidently)`, pct(coverage)],
    ['accuracy when confident', pct(confident.length ? (confident.length - cbw * flat.length) / confident.length : 0)],
    ['latency per question p50 / p99', `${percentile(latencies, 0.5).toFixed(3)} ms / ${percentile(latencies, 0.99).toFixed(3)} ms`],
    ['index build per fold (mean)', `${mean(buildMs).toFixed(0)} ms`],
    [`index build, full KB (${all.length} questions)`, `${fullBuildMs.toFixed(0)} ms`],
    [
      `memory of full index (heap delta${gc ? ' after gc' : ', approx.: no gc'} + model arrays)`,
      `${(heapMb + bufMb).toFixed(1)} MB (JS heap ${heapMb.toFixed(1)} MB + typed arrays ${bufMb.toFixed(1)} MB)`,
    ],
    [
      'right answers lost to an unrelated context',
      `${pct(unrelatedContextHurt / Math.max(1, unrelatedContextAsked))} of ${unrelatedContextAsked} asked`,
    ],
  ];
  const width = Math.max(...rows.map((r) => r[0].length));
  console.log('');
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);

  console.log('\nthreshold sweep (confident-but-wrong of all / coverage):');
  for (const t of [0.3, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]) {
    const c = flat.filter((o) => o.confidence >= t);
    console.log(
      `  ${t.toFixed(2)}  ${pct(c.filter((o) => !o.top1).length / flat.length).padStart(7)}  ${pct(c.length / flat.length).padStart(7)}`,
    );
  }
  console.log('reliability (confidence bin: accuracy, n):');
  for (let b = 0; b < 10; b++) {
    const inBin = flat.filter((o) => o.confidence >= b / 10 && (o.confidence < (b + 1) / 10 || b === 9));
    if (inBin.length)
      console.log(
        `  ${(b / 10).toFixed(1)}-${((b + 1) / 10).toFixed(1)}  ${pct(mean(inBin.map((o) => (o.top1 ? 1 : 0)))).padStart(7)}  ${inBin.length}`,
      );
  }
  if (args.calibrate) {
    console.log('temperature fit (held-out mean negative log-likelihood):');
    for (const T of [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9, 1, 1.2]) {
      let nll = 0;
      for (const o of flat) {
        if (!o.logits || o.logits.truth < 0) continue;
        const s = o.logits.scores.map((x) => x / T);
        const m = Math.max(...s);
        const lse = m + Math.log(s.reduce((a, x) => a + Math.exp(x - m), 0));
        nll += lse - (s[o.logits.truth] as number);
      }
      console.log(`  T=${T}: ${(nll / flat.length).toFixed(4)}`);
    }
  }
}

/**
 * Interim patches against full training: per fold, `args.patch` random intents are left out of a trained
 * model, then added by a patch; the held-out fold is asked of the patched model, of a model trained cold on
 * all intents (the same questions each), and of the warm retrains the service swaps in afterwards: one
 * warm pass from the old model (new articles' weights from zero, as before patches existed) and from the
 * patched one (what builder.ts does). Reports accuracy, confident-but-wrong, recall of the added intents,
 * questions of other intents lost to them, and the patch's time.
 */
function patchEval(args: Args, all: readonly LabelledQuestion[], folds: readonly number[]): void {
  const random = rng(args.seed + 2);
  const labels = [...new Set(all.map((q) => q.label))];
  type Tally = { n: number; top1: number; cbw: number; addedN: number; addedTop1: number; addedConfident: number; stolen: number };
  const tally = (): Tally => ({ n: 0, top1: 0, cbw: 0, addedN: 0, addedTop1: 0, addedConfident: 0, stolen: 0 });
  const full = tally();
  const patched = tally();
  const warmFromOld = tally();
  const warmFromPatch = tally();
  const patchMs: number[] = [];
  const ask = (index: KnowledgeIndex, q: LabelledQuestion, added: ReadonlySet<string>, t: Tally): void => {
    const r = index.search(q.text, { threshold: args.threshold });
    const got = r.best?.article.id;
    t.n++;
    if (got === q.label) t.top1++;
    else if (r.confident) t.cbw++;
    if (added.has(q.label)) {
      t.addedN++;
      if (got === q.label) t.addedTop1++;
      if (got === q.label && r.confident) t.addedConfident++;
    } else if (got !== undefined && added.has(got)) t.stolen++;
  };
  for (let f = 0; f < args.folds; f++) {
    const added = new Set<string>();
    while (added.size < Math.min(args.patch, labels.length)) added.add(labels[Math.floor(random() * labels.length)] as string);
    const articles = articlesFrom(all.filter((_, i) => folds[i] !== f)).map((a) =>
      added.has(a.id) ? { ...a, questions: a.questions.slice(0, args.patchQuestions) } : a,
    );
    const test = all.filter((_, i) => folds[i] === f);
    const base = new KnowledgeIndex(args.options);
    for (const a of articles) if (!added.has(a.id)) base.upsert(a);
    base.rebuild();
    const t0 = performance.now();
    const withPatch = KnowledgeIndex.serving(base.trainedModel, articles, args.options);
    patchMs.push(performance.now() - t0);
    if (withPatch.patched.length !== added.size)
      throw new Error(`expected ${added.size} patched articles, got ${withPatch.patched.length}`);
    const trained = new KnowledgeIndex(args.options);
    for (const a of articles) trained.upsert(a);
    trained.rebuild();
    const old = base.trainedModel as Model;
    const warmOld = KnowledgeIndex.serving(Model.build(articles, args.options, { warmFrom: old }), articles, args.options);
    const warmPatch = KnowledgeIndex.serving(
      Model.build(articles, args.options, { warmFrom: warmStartFrom(old, articles, args.options) }),
      articles,
      args.options,
    );
    for (const q of test) {
      ask(trained, q, added, full);
      ask(withPatch, q, added, patched);
      ask(warmOld, q, added, warmFromOld);
      ask(warmPatch, q, added, warmFromPatch);
    }
    console.log(`  fold ${f + 1}/${args.folds}: added ${[...added].join(', ')}; patch ${patchMs[f]?.toFixed(1)} ms`);
  }
  const rows: Array<[string, (t: Tally) => string]> = [
    ['top-1 accuracy, all questions', (t) => pct(t.top1 / t.n)],
    [`confident-but-wrong @ ${args.threshold}`, (t) => pct(t.cbw / t.n)],
    ['top-1 on the added intents', (t) => pct(t.addedTop1 / Math.max(1, t.addedN))],
    [`answered confidently and right @ ${args.threshold}, added intents`, (t) => pct(t.addedConfident / Math.max(1, t.addedN))],
    ['other intents’ questions answered with an added one', (t) => pct(t.stolen / Math.max(1, t.n - t.addedN))],
  ];
  const width = Math.max(...rows.map((r) => r[0].length));
  const q = Number.isFinite(args.patchQuestions) ? `${args.patchQuestions} questions each` : 'all their training questions';
  const columns: Array<[string, Tally]> = [
    ['trained', full],
    ['patched', patched],
    ['warm/old', warmFromOld],
    ['warm/patch', warmFromPatch],
  ];
  console.log(`\n${args.patch} intents per fold added (${q}); ${full.n} held-out questions`);
  console.log(`${''.padEnd(width)}${columns.map(([name]) => name.padStart(12)).join('')}`);
  for (const [name, f] of rows) console.log(`${name.padEnd(width)}${columns.map(([, t]) => f(t).padStart(12)).join('')}`);
  console.log('(trained: cold on all; warm/old: one warm pass from the model without them; warm/patch: from the patched model)');
  console.log(
    `${'patch time (median / max)'.padEnd(width)}  ${percentile(patchMs, 0.5).toFixed(1)} ms / ${Math.max(...patchMs).toFixed(1)} ms`,
  );
}

/** global.gc when node runs with --expose-gc; otherwise enable it at run time (V8 allows this flag late). */
function exposeGc(): (() => void) | undefined {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return existing;
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}

if (require.main === module) main();
