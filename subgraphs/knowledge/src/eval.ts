/**
 * `npm run eval`: answer quality of the knowledge engine, one table (and `--json file`):
 *   - CLINC150 out-of-scope detection: one article per intent built from the train split; the validation
 *     split (in scope) and its out-of-scope questions are asked: in-scope top-1, out-of-scope recall and
 *     in-scope false rejection at the threshold, AUROC, and the coverage–accuracy curve.
 *   - BANKING77 near out-of-scope: a quarter of the intents held out as unknown (several seeds), open-set
 *     macro F1 over the known intents plus "unknown".
 *   - BANKING77 top-1 in stratified k-fold cross-validation, confident-but-wrong at the threshold, latency.
 * Each intent becomes one article whose example questions are its training questions; nothing asked is
 * ever seen by the index it is asked against. Data comes from ../shared/data (see eval-data.ts).
 * With the sentence-embedding model cached (ops/models/models.sh fetch) the engine fuses embeddings with its
 * word features; `--engine features` measures the word features alone.
 *
 *   node subgraphs/knowledge/dist/eval.js (npm run eval) [--suite all|clinc|open|cv] [--engine auto|features|embeddings]
 *                               [--data-dir dir] [--json out.json] [--folds 5] [--seeds 3] [--seed 7]
 *                               [--threshold 0.8] [--sample 0.2] [--calibrate] [--options '{"fusion":{…}}']
 *                               [--patch 4 [--patch-questions 5]]
 * `--patch n`: instead, per fold, n intents are left out of a trained model and then added by an interim
 * patch (patch.ts), which is compared with a model trained on all of them; `--patch-questions q` gives
 * the added intents only q example questions (a freshly written article), in both.
 * Memory is measured after a forced GC (--expose-gc, or enabled at run time through v8.setFlagsFromString).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, homedir, loadavg } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { rng, shuffleInPlace } from './classifier';
import { warmStartFrom } from './builder';
import { DEFAULT_CONFIDENCE_THRESHOLD, KnowledgeIndex, Model, type KnowledgeArticle, type KnowledgeIndexOptions } from './index';
import { SentenceEncoder } from './embedding/encoder';
import { EmbeddingDiskCache, findDataDir, repoRoot } from './eval-data';
import { calibrateThreshold } from './calibration';
import {
  accuracyAtCoverage,
  auroc,
  openSetF1,
  operatingPoint,
  thresholdForConfidentWrong,
  thresholdForFalseRejection,
  type Answered,
} from './eval-metrics';

export interface LabelledQuestion {
  text: string;
  label: string;
}

type Suite = 'clinc' | 'open' | 'cv' | 'cn' | 'followup' | 'latency';

interface Args {
  suites: Suite[];
  engine: 'auto' | 'features' | 'embeddings';
  dataDir?: string;
  json?: string;
  folds: number;
  /** Held-out-intent draws for the near out-of-scope suite. */
  seeds: number;
  seed: number;
  threshold: number;
  /** Fraction of the asked questions actually asked (for quick runs while iterating). */
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
  return loadLabelled(path, 'category');
}

/** A `text,<label column>` CSV (BANKING77: category; CLINC150: intent). */
export function loadLabelled(path: string, labelColumn: string): LabelledQuestion[] {
  const rows = parseCsv(readFileSync(path, 'utf8'));
  const header = rows.shift() ?? [];
  const ti = header.indexOf('text');
  const li = header.indexOf(labelColumn);
  if (ti < 0 || li < 0) throw new Error(`${path}: expected a text,${labelColumn} header`);
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
  const suite = get('suite') ?? 'all';
  const known: Suite[] = ['clinc', 'open', 'cv', 'cn', 'followup', 'latency'];
  // `latency` alone re-measures what cv measures on the side: quick to repeat when the machine is quiet.
  const suites: Suite[] = suite === 'all' ? known.filter((k) => k !== 'latency') : (suite.split(',') as Suite[]);
  for (const s of suites) if (!known.includes(s)) throw new Error(`unknown --suite ${s} (all, ${known.join(', ')})`);
  const engine = get('engine') ?? 'auto';
  if (engine !== 'auto' && engine !== 'features' && engine !== 'embeddings') throw new Error(`unknown --engine ${engine}`);
  const options = get('options');
  return {
    suites,
    engine,
    dataDir: get('data-dir'),
    json: get('json'),
    folds: Number(get('folds') ?? 5),
    seeds: Number(get('seeds') ?? 3),
    seed: Number(get('seed') ?? 7),
    threshold: Number(get('threshold') ?? DEFAULT_CONFIDENCE_THRESHOLD),
    sample: Number(get('sample') ?? 1),
    calibrate: argv.includes('--calibrate'),
    options: options ? (JSON.parse(options) as KnowledgeIndexOptions) : {},
    patch: Number(get('patch') ?? 0),
    patchQuestions: Number(get('patch-questions') ?? Infinity),
  };
}

/** The table printed at the end (suite, figure, value, goal) and the same figures as JSON. */
class Report {
  readonly rows: Array<[string, string, string, string]> = [];
  readonly json: Record<string, Record<string, unknown>> = {};

  add(suite: string, figure: string, value: string, goal = ''): void {
    this.rows.push([suite, figure, value, goal]);
  }

  set(suite: string, key: string, value: unknown): void {
    (this.json[suite] ??= {})[key] = value;
  }

  print(): void {
    const w = [0, 1, 2].map((c) => Math.max(...this.rows.map((r) => r[c]?.length ?? 0)));
    console.log('');
    for (const r of this.rows)
      console.log(`${r[0].padEnd(w[0] as number)}  ${r[1].padEnd(w[1] as number)}  ${r[2].padStart(w[2] as number)}  ${r[3]}`.trimEnd());
  }
}

interface Asked {
  id: string | undefined;
  confidence: number;
  latencyMs: number;
  /** Every article's score (with --calibrate). */
  scores?: number[];
  ids?: string[];
}

class Evaluation {
  readonly random: () => number;

  constructor(
    readonly args: Args,
    readonly encoder: SentenceEncoder | null,
    readonly report: Report,
  ) {
    this.random = rng(args.seed + 1);
  }

  /** An index over `articles`, trained and (with an encoder) embedded; times of both. */
  async index(articles: readonly KnowledgeArticle[]): Promise<{ index: KnowledgeIndex; buildMs: number; embedMs: number }> {
    const index = new KnowledgeIndex({ ...this.args.options, encoder: this.encoder });
    for (const a of articles) index.upsert(a);
    const t0 = performance.now();
    index.rebuild();
    const buildMs = performance.now() - t0;
    const t1 = performance.now();
    await index.prepareEmbeddings();
    return { index, buildMs, embedMs: performance.now() - t1 };
  }

  async ask(index: KnowledgeIndex, text: string, all = false): Promise<Asked> {
    const t = process.hrtime.bigint();
    const r = await index.searchAsync(text, { threshold: this.args.threshold, limit: all ? index.size : 3 });
    const latencyMs = Number(process.hrtime.bigint() - t) / 1e6;
    const asked: Asked = { id: r.best?.article.id, confidence: r.best?.confidence ?? 0, latencyMs };
    if (all) {
      asked.scores = r.ranked.map((x) => x.score);
      asked.ids = r.ranked.map((x) => x.article.id);
    }
    return asked;
  }

  sample<T>(xs: readonly T[]): T[] {
    return this.args.sample >= 1 ? [...xs] : xs.filter(() => this.random() < this.args.sample);
  }
}

function curveOf(answers: readonly Answered[]): Array<Record<string, number>> {
  return [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99].map((t) => {
    const p = operatingPoint(answers, t);
    return {
      threshold: t,
      coverage: p.coverage,
      accuracy: p.accuracy,
      confidentWrong: p.confidentWrong,
      oosRecall: p.oosRecall,
      falseRejection: p.falseRejection,
    };
  });
}

function printCurve(title: string, answers: readonly Answered[], withOos: boolean): void {
  console.log(`  ${title} — coverage–accuracy curve (answer when confidence ≥ threshold, else hand to a human):`);
  console.log(`    threshold  coverage  accuracy  conf.wrong${withOos ? '  oos recall  false rej.' : ''}`);
  for (const p of curveOf(answers))
    console.log(
      `    ${(p.threshold as number).toFixed(2).padStart(9)}  ${pct(p.coverage as number).padStart(8)}  ${pct(p.accuracy as number).padStart(8)}  ${pct(p.confidentWrong as number).padStart(10)}` +
        (withOos ? `  ${pct(p.oosRecall as number).padStart(10)}  ${pct(p.falseRejection as number).padStart(10)}` : ''),
    );
  const cov = [0.5, 0.7, 0.8, 0.9, 1].map((c) => `${(100 * c).toFixed(0)}%: ${pct(accuracyAtCoverage(answers, c))}`).join(', ');
  console.log(`    accuracy at coverage ${cov}`);
}

async function clincSuite(e: Evaluation, dataDir: string): Promise<void> {
  const dir = join(dataDir, 'clinc150');
  const train = loadLabelled(join(dir, 'train.csv'), 'intent');
  const val = e.sample(loadLabelled(join(dir, 'val.csv'), 'intent'));
  const oos = e.sample(loadLabelled(join(dir, 'oos_val.csv'), 'intent'));
  const { index, buildMs, embedMs } = await e.index(articlesFrom(train));
  console.log(
    `CLINC150: ${index.size} articles from ${train.length} train questions (build ${buildMs.toFixed(0)} ms, embed ${embedMs.toFixed(0)} ms); asking ${val.length} in-scope + ${oos.length} out-of-scope validation questions`,
  );
  const answers: Answered[] = [];
  for (const q of val) {
    const a = await e.ask(index, q.text);
    answers.push({ inScope: true, correct: a.id === q.label, confidence: a.confidence });
  }
  for (const q of oos) answers.push({ inScope: false, correct: false, confidence: (await e.ask(index, q.text)).confidence });
  const inScope = answers.filter((a) => a.inScope);
  const top1 = mean(inScope.map((a) => (a.correct ? 1 : 0)));
  const at = operatingPoint(answers, e.args.threshold);
  const roc = auroc(
    inScope.map((a) => a.confidence),
    answers.filter((a) => !a.inScope).map((a) => a.confidence),
  );
  const t5 = thresholdForFalseRejection(answers, 0.05);
  const at5 = operatingPoint(answers, t5);
  const r = e.report;
  const th = e.args.threshold;
  r.add('CLINC150', 'in-scope top-1', pct(top1), '≥ 96% (BERT 96.9%)');
  r.add('CLINC150', `out-of-scope recall @ ${th}`, pct(at.oosRecall), '≥ 85%');
  r.add('CLINC150', `in-scope false rejection @ ${th}`, pct(at.falseRejection), '≤ 5%');
  r.add('CLINC150', `in-scope answered right @ ${th}`, pct(inScope.filter((a) => a.correct && a.confidence >= th).length / inScope.length));
  r.add('CLINC150', 'AUROC in-scope vs out-of-scope', roc.toFixed(4), '≥ 0.97');
  r.add('CLINC150', `out-of-scope recall @ 5% false rejection (t=${t5.toFixed(3)})`, pct(at5.oosRecall), '≥ 85% (BERT 52.3%)');
  const cal = await calibrateThreshold(articlesFrom(train), {
    targetConfidentWrong: TENANT_TARGET,
    index: { ...e.args.options, encoder: e.encoder },
  });
  if (cal) {
    const atCal = operatingPoint(answers, cal.threshold);
    r.add(
      'CLINC150',
      `tenant-calibrated threshold (≤ ${pct(TENANT_TARGET)} conf.-wrong on its train questions)`,
      `${cal.threshold.toFixed(3)}, expected hand-off ${pct(cal.handOff)}`,
    );
    r.add(
      'CLINC150',
      '  at it: out-of-scope recall / false rejection',
      `${pct(atCal.oosRecall)} / ${pct(atCal.falseRejection)}`,
      '≥ 85% / ≤ 5%',
    );
    r.set('clinc150', 'tenantCalibration', { ...cal, onValidation: atCal });
  }
  r.set('clinc150', 'inScopeTop1', top1);
  r.set('clinc150', 'threshold', th);
  r.set('clinc150', 'atThreshold', at);
  r.set('clinc150', 'auroc', roc);
  r.set('clinc150', 'atFivePercentFalseRejection', at5);
  r.set('clinc150', 'curve', curveOf(answers));
  r.set('clinc150', 'asked', { inScope: inScope.length, outOfScope: answers.length - inScope.length });
  printCurve('CLINC150', answers, true);
}

const UNKNOWN = '<unknown>';
/** The confident-but-wrong rate a tenant's threshold is calibrated for (calibration.ts). */
const TENANT_TARGET = 0.015;

async function openSuite(e: Evaluation, dataDir: string): Promise<void> {
  const all = loadBanking77(join(dataDir, 'banking77', 'train.csv'));
  const labels = [...new Set(all.map((q) => q.label))].sort();
  const heldOut = Math.floor(labels.length / 4);
  const f1s: number[] = [];
  const knownF1s: number[] = [];
  const openF1s: number[] = [];
  const rocs: number[] = [];
  const pooled: Answered[] = [];
  for (let s = 0; s < e.args.seeds; s++) {
    const seed = e.args.seed + 100 * s;
    const order = labels.map((_, i) => i);
    shuffleInPlace(order, rng(seed));
    const unknown = new Set(order.slice(0, heldOut).map((i) => labels[i] as string));
    const folds = stratifiedFolds(all, 5, seed);
    const train = all.filter((q, i) => folds[i] !== 0 && !unknown.has(q.label));
    const test = e.sample(all.filter((_, i) => folds[i] === 0));
    const { index } = await e.index(articlesFrom(train));
    const pairs: Array<{ truth: string; predicted: string }> = [];
    const answers: Answered[] = [];
    for (const q of test) {
      const a = await e.ask(index, q.text);
      const isKnown = !unknown.has(q.label);
      pairs.push({ truth: isKnown ? q.label : UNKNOWN, predicted: a.confidence >= e.args.threshold && a.id ? a.id : UNKNOWN });
      answers.push({ inScope: isKnown, correct: isKnown && a.id === q.label, confidence: a.confidence });
    }
    const f = openSetF1(pairs, UNKNOWN);
    f1s.push(f.macro);
    knownF1s.push(f.known);
    openF1s.push(f.open);
    rocs.push(
      auroc(
        answers.filter((a) => a.inScope).map((a) => a.confidence),
        answers.filter((a) => !a.inScope).map((a) => a.confidence),
      ),
    );
    pooled.push(...answers);
    console.log(
      `BANKING77 open set, seed ${seed}: ${heldOut} of ${labels.length} intents unknown, ${test.length} asked; macro F1 ${pct(f.macro)}, open F1 ${pct(f.open)}`,
    );
  }
  const r = e.report;
  const th = e.args.threshold;
  const at = operatingPoint(pooled, th);
  r.add(
    'BANKING77 25% unknown',
    `open-set macro F1 @ ${th} (${e.args.seeds} seeds, mean ± sd)`,
    `${pct(mean(f1s))} ± ${pct(sd(f1s))}`,
    'published 67–69 (ADB-style)',
  );
  r.add('BANKING77 25% unknown', 'F1 known intents / F1 unknown', `${pct(mean(knownF1s))} / ${pct(mean(openF1s))}`);
  r.add('BANKING77 25% unknown', `unknown recall / known false rejection @ ${th}`, `${pct(at.oosRecall)} / ${pct(at.falseRejection)}`);
  r.add('BANKING77 25% unknown', 'AUROC known vs unknown', mean(rocs).toFixed(4));
  r.set('banking77Open', 'macroF1', { mean: mean(f1s), sd: sd(f1s), perSeed: f1s });
  r.set('banking77Open', 'knownF1', mean(knownF1s));
  r.set('banking77Open', 'openF1', mean(openF1s));
  r.set('banking77Open', 'auroc', mean(rocs));
  r.set('banking77Open', 'atThreshold', at);
  r.set('banking77Open', 'curve', curveOf(pooled));
  printCurve('BANKING77 25% unknown (pooled over seeds)', pooled, true);
}

/**
 * The Chinese demo FAQ (ops/demo/data/demo-cn.json, in the repository) asked the held-out paraphrases and
 * out-of-scope shop questions of demo-cn-eval.json, written for this evaluation, plus demo-cn-heldout.json.
 */
async function chineseSuite(e: Evaluation, demoDir: string): Promise<void> {
  const kb = JSON.parse(readFileSync(join(demoDir, 'demo-cn.json'), 'utf8')) as { articles: KnowledgeArticle[] };
  const extra = JSON.parse(readFileSync(join(demoDir, 'demo-cn-eval.json'), 'utf8')) as {
    inScope: Array<{ question: string; articleId: string }>;
    outOfScope: Array<{ question: string }>;
  };
  const older = JSON.parse(readFileSync(join(demoDir, 'demo-cn-heldout.json'), 'utf8')) as Array<{ question: string; articleId: string }>;
  const { index } = await e.index(kb.articles);
  const answers: Answered[] = [];
  let newRight = 0;
  for (const [n, q] of [...extra.inScope, ...older].entries()) {
    const a = await e.ask(index, q.question);
    answers.push({ inScope: true, correct: a.id === q.articleId, confidence: a.confidence });
    if (n < extra.inScope.length && a.id === q.articleId) newRight++;
  }
  for (const q of extra.outOfScope)
    answers.push({ inScope: false, correct: false, confidence: (await e.ask(index, q.question)).confidence });
  const inScope = answers.filter((a) => a.inScope);
  const th = e.args.threshold;
  const at = operatingPoint(answers, th);
  const roc = auroc(
    inScope.map((a) => a.confidence),
    answers.filter((a) => !a.inScope).map((a) => a.confidence),
  );
  const r = e.report;
  const label = `Chinese FAQ (${kb.articles.length} articles)`;
  r.add(
    label,
    `top-1, ${extra.inScope.length} new + ${older.length} older held-out paraphrases`,
    `${pct(newRight / extra.inScope.length)} new, ${pct(mean(inScope.map((a) => (a.correct ? 1 : 0))))} all`,
  );
  r.add(
    label,
    `out-of-scope recall / false rejection @ ${th} (${extra.outOfScope.length} shop questions)`,
    `${pct(at.oosRecall)} / ${pct(at.falseRejection)}`,
  );
  r.add(label, 'AUROC in-scope vs out-of-scope', roc.toFixed(4));
  const cal = await calibrateThreshold(kb.articles, {
    targetConfidentWrong: TENANT_TARGET,
    index: { ...e.args.options, encoder: e.encoder },
  });
  if (cal) {
    const atCal = operatingPoint(answers, cal.threshold);
    r.add(
      label,
      `tenant-calibrated threshold (≤ ${pct(TENANT_TARGET)} on its own questions)`,
      `${cal.threshold.toFixed(3)}, expected hand-off ${pct(cal.handOff)}`,
    );
    r.add(label, '  at it: out-of-scope recall / false rejection', `${pct(atCal.oosRecall)} / ${pct(atCal.falseRejection)}`);
    r.set('chinese', 'tenantCalibration', { ...cal, onHeldOut: atCal });
  }
  r.set('chinese', 'top1New', newRight / extra.inScope.length);
  r.set('chinese', 'top1All', mean(inScope.map((a) => (a.correct ? 1 : 0))));
  r.set('chinese', 'atThreshold', at);
  r.set('chinese', 'auroc', roc);
  r.set('chinese', 'curve', curveOf(answers));
}

/**
 * Two-turn conversations (ops/demo/data/follow-ups.json, written for this evaluation) against the demo
 * tenants: the follow-up is asked with the first turn as context, as both engines retrieve (the
 * OpenAI-compatible engine puts the same ranked articles in its prompt), and without it for comparison.
 */
async function followUpSuite(e: Evaluation, demoDir: string): Promise<void> {
  const read = <T>(file: string): T => JSON.parse(readFileSync(join(demoDir, file), 'utf8')) as T;
  const written = read<Array<{ intent: string; id: string; title: string; body: string }>>('banking77-articles.json');
  const questions = new Map<string, string[]>();
  for (const q of loadBanking77(join(demoDir, 'banking77', 'train.csv')))
    questions.set(q.label, [...(questions.get(q.label) ?? []), q.text]);
  const bank = written.map((a): KnowledgeArticle => ({
    id: a.id,
    title: a.title,
    body: a.body,
    questions: questions.get(a.intent) ?? [],
    locale: 'en',
  }));
  const cn = read<{ articles: KnowledgeArticle[] }>('demo-cn.json').articles;
  const { conversations } = read<{ conversations: Array<{ locale: string; tenant: string; turns: [string, string]; articleId: string }> }>(
    'follow-ups.json',
  );
  const indexes = new Map([
    ['demo-bank', (await e.index(bank)).index],
    ['demo-cn', (await e.index(cn)).index],
  ]);
  const tally = new Map<string, { n: number; withContext: number; alone: number; confidentWrong: number }>();
  for (const c of conversations) {
    const index = indexes.get(c.tenant);
    if (!index) continue;
    const t = tally.get(c.locale) ?? { n: 0, withContext: 0, alone: 0, confidentWrong: 0 };
    const withContext = await index.searchAsync(c.turns[1], { context: [c.turns[0]], threshold: e.args.threshold });
    const alone = await index.searchAsync(c.turns[1], { threshold: e.args.threshold });
    t.n++;
    if (withContext.best?.article.id === c.articleId) t.withContext++;
    else if (withContext.confident) t.confidentWrong++;
    if (alone.best?.article.id === c.articleId) t.alone++;
    tally.set(c.locale, t);
  }
  for (const [locale, t] of tally) {
    e.report.add(
      `follow-ups (${locale}, ${t.n})`,
      'top-1 with the conversation / question alone',
      `${pct(t.withContext / t.n)} / ${pct(t.alone / t.n)}`,
    );
    e.report.add(
      `follow-ups (${locale}, ${t.n})`,
      `confident-but-wrong with the conversation @ ${e.args.threshold}`,
      pct(t.confidentWrong / t.n),
    );
    e.report.set('followUps', locale, {
      conversations: t.n,
      top1WithContext: t.withContext / t.n,
      top1Alone: t.alone / t.n,
      confidentWrong: t.confidentWrong / t.n,
    });
  }
}

/**
 * `--suite latency`: questions never seen before (their embeddings computed afresh) asked of a BANKING77
 * index trained on the other folds: wall time and the process's CPU time per question (encoding and
 * search), with the load average beside them. On a shared machine the wall time's tail is the other
 * processes' (a question waits for a core); the CPU time is what the question itself costs.
 */
async function latencySuite(e: Evaluation, dataDir: string): Promise<void> {
  const all = loadBanking77(join(dataDir, 'banking77', 'train.csv'));
  const folds = stratifiedFolds(all, 5, e.args.seed);
  const train = all.filter((_, i) => folds[i] !== 0);
  const { index } = await e.index(articlesFrom(train));
  const probe = all.filter((_, i) => folds[i] === 0).slice(0, Math.max(1, Math.round(1000 * Math.min(1, e.args.sample))));
  const m = await measureNewQuestions(e, index, probe, train);
  const r = e.report;
  r.add(
    'latency (new questions)',
    `wall p50 / p99 (${probe.length} asked)`,
    `${m.wall.p50.toFixed(2)} ms / ${m.wall.p99.toFixed(2)} ms`,
    'p99 < 10 ms',
  );
  r.add('latency (new questions)', 'CPU per question p50 / p99', `${m.cpu.p50.toFixed(2)} ms / ${m.cpu.p99.toFixed(2)} ms`, 'p99 < 10 ms');
  r.add(
    'latency (new questions)',
    'load average (1 min) before / after, cores',
    `${m.load[0].toFixed(2)} / ${m.load[1].toFixed(2)}, ${cpus().length}`,
  );
  r.set('latency', 'newQuestions', m);
}

interface NewQuestionLatency {
  wall: { p50: number; p99: number };
  /** The process's user + system CPU time per question (process.cpuUsage around each one). */
  cpu: { p50: number; p99: number; mean: number };
  /** One-minute load average before and after. */
  load: [number, number];
  asked: number;
}

/** Questions asked (and not timed) before measuring: a serving process has compiled its search path long before. */
const WARM_UP_QUESTIONS = 50;

/**
 * Encodes each question afresh (no embedding cache) and searches: what a never-seen question costs. First
 * asks `warmUp` other questions untimed (the index's own training questions, encoded afresh too), so that
 * the figures are a warm process's, not the JIT compiling the search path on its first questions.
 */
async function measureNewQuestions(
  e: Evaluation,
  index: KnowledgeIndex,
  questions: readonly LabelledQuestion[],
  warmUp: readonly LabelledQuestion[] = [],
): Promise<NewQuestionLatency> {
  for (const q of warmUp.slice(0, WARM_UP_QUESTIONS)) {
    const [embedding] = e.encoder ? await e.encoder.embedUncached([q.text]) : [undefined];
    index.search(q.text, { embedding, threshold: e.args.threshold });
  }
  const wall: number[] = [];
  const cpu: number[] = [];
  const load0 = loadavg()[0] as number;
  for (const q of questions) {
    const c0 = process.cpuUsage();
    const t = process.hrtime.bigint();
    const [embedding] = e.encoder ? await e.encoder.embedUncached([q.text]) : [undefined];
    index.search(q.text, { embedding, threshold: e.args.threshold });
    wall.push(Number(process.hrtime.bigint() - t) / 1e6);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return {
    wall: { p50: percentile(wall, 0.5), p99: percentile(wall, 0.99) },
    cpu: { p50: percentile(cpu, 0.5), p99: percentile(cpu, 0.99), mean: mean(cpu) },
    load: [load0, loadavg()[0] as number],
    asked: questions.length,
  };
}

async function cvSuite(e: Evaluation, dataDir: string): Promise<void> {
  const args = e.args;
  const all = loadBanking77(join(dataDir, 'banking77', 'train.csv'));
  const folds = stratifiedFolds(all, args.folds, args.seed);
  console.log(
    `BANKING77: ${all.length} questions, ${new Set(all.map((q) => q.label)).size} intents, ${args.folds}-fold stratified CV (seed ${args.seed})`,
  );
  const top1: number[] = [];
  const top1Answers: Answered[] = [];
  const latencies: number[] = [];
  const buildMs: number[] = [];
  const calibration: Array<{ scores: number[]; truth: number }> = [];
  let unrelatedContextHurt = 0;
  let unrelatedContextAsked = 0;
  let tenantCalibrated: (Awaited<ReturnType<typeof calibrateThreshold>> & { onHeldOut: ReturnType<typeof operatingPoint> }) | null = null;
  let cold: NewQuestionLatency | null = null;
  for (let f = 0; f < args.folds; f++) {
    const train = all.filter((_, i) => folds[i] !== f);
    const test = e.sample(all.filter((_, i) => folds[i] === f));
    const built = await e.index(articlesFrom(train));
    const index = built.index;
    buildMs.push(built.buildMs + built.embedMs);
    let right = 0;
    const firstAnswer = top1Answers.length;
    for (const q of test) {
      const a = await e.ask(index, q.text, args.calibrate);
      latencies.push(a.latencyMs);
      if (a.id === q.label) right++;
      top1Answers.push({ inScope: true, correct: a.id === q.label, confidence: a.confidence });
      if (a.scores && a.ids) calibration.push({ scores: a.scores, truth: a.ids.indexOf(q.label) });
    }
    // Context must not hurt a self-contained question: ask again with an unrelated previous question.
    for (let i = 0; i < test.length; i += 5) {
      const q = test[i] as LabelledQuestion;
      const other = test[(i + 1 + Math.floor(e.random() * (test.length - 1))) % test.length] as LabelledQuestion;
      if (other.label === q.label) continue;
      const plain = await index.searchAsync(q.text, { threshold: args.threshold });
      const withCtx = await index.searchAsync(q.text, { context: [other.text], threshold: args.threshold });
      unrelatedContextAsked++;
      const plainOk = plain.confident && plain.best?.article.id === q.label;
      const ctxOk = withCtx.confident && withCtx.best?.article.id === q.label;
      if (plainOk && !ctxOk) unrelatedContextHurt++;
    }
    top1.push(right / Math.max(1, test.length));
    if (f === 0) {
      // Per-tenant threshold, from the training folds' questions only, applied to the held-out fold.
      const cal = await calibrateThreshold(articlesFrom(train), {
        targetConfidentWrong: TENANT_TARGET,
        index: { ...args.options, encoder: e.encoder },
      });
      if (cal) tenantCalibrated = { ...cal, onHeldOut: operatingPoint(top1Answers.slice(firstAnswer), cal.threshold) };
      // Latency of a question never seen before: encoding (bypassing the cache) plus search.
      cold = await measureNewQuestions(e, index, test.slice(0, 300), train);
    }
    console.log(
      `  fold ${f + 1}/${args.folds}: train ${train.length}, test ${test.length}, top-1 ${pct(top1[f] as number)}, build ${(buildMs[f] as number).toFixed(0)} ms`,
    );
  }
  const th = args.threshold;
  const at = operatingPoint(top1Answers, th);
  const cbw15 = thresholdForConfidentWrong(top1Answers, 0.015);
  const at15 = operatingPoint(top1Answers, cbw15);

  // Full-KB build time and memory (the 10k-question knowledge base).
  const gc = exposeGc();
  gc?.();
  const before = process.memoryUsage();
  const full = await e.index(articlesFrom(all));
  gc?.();
  const after = process.memoryUsage();
  const heapMb = (after.heapUsed - before.heapUsed) / 2 ** 20;
  const bufMb = full.index.modelBytes / 2 ** 20;
  let coldEmbedMsPerExample = 0;
  if (e.encoder) {
    // Embedding time without the cache: a slice of the knowledge base's questions, re-encoded.
    const texts = all.slice(0, 500).map((q) => q.text);
    const t = performance.now();
    await e.encoder.embedUncached(texts);
    coldEmbedMsPerExample = (performance.now() - t) / texts.length;
  }

  const r = e.report;
  r.add('BANKING77 CV', `top-1 (${args.folds}-fold, mean ± sd)`, `${pct(mean(top1))} ± ${pct(sd(top1))}`, '≥ 94% (BERT 93.7%)');
  r.add('BANKING77 CV', `confident-but-wrong @ ${th} (of all)`, pct(at.confidentWrong), '≤ 1.5%');
  r.add('BANKING77 CV', `coverage @ ${th} (answered)`, pct(at.coverage));
  r.add('BANKING77 CV', `threshold for ≤ 1.5% confident-but-wrong / its coverage`, `${cbw15.toFixed(3)} / ${pct(at15.coverage)}`);
  r.add(
    'BANKING77 CV',
    e.encoder ? 'search latency p50 / p99 (question embedding cached; encoding cost below)' : 'latency per question p50 / p99',
    `${percentile(latencies, 0.5).toFixed(2)} ms / ${percentile(latencies, 0.99).toFixed(2)} ms`,
    'p99 < 10 ms',
  );
  if (cold)
    r.add(
      'BANKING77 CV',
      'new question (not cached): wall p50 / p99; CPU p50 / p99 (load avg)',
      `${cold.wall.p50.toFixed(2)} / ${cold.wall.p99.toFixed(2)} ms; ${cold.cpu.p50.toFixed(2)} / ${cold.cpu.p99.toFixed(2)} ms (${cold.load[0].toFixed(1)}→${cold.load[1].toFixed(1)})`,
      'p99 < 10 ms',
    );
  if (tenantCalibrated) {
    r.add(
      'BANKING77 CV',
      `tenant-calibrated threshold, fold 1 (≤ ${pct(TENANT_TARGET)} on its train questions)`,
      `${tenantCalibrated.threshold.toFixed(3)}, expected hand-off ${pct(tenantCalibrated.handOff)}`,
    );
    r.add(
      'BANKING77 CV',
      '  at it on the held-out fold: conf.-wrong / coverage',
      `${pct(tenantCalibrated.onHeldOut.confidentWrong)} / ${pct(tenantCalibrated.onHeldOut.coverage)}`,
      '≤ 1.5%',
    );
    r.set('banking77Cv', 'tenantCalibration', tenantCalibrated);
  }
  if (cold) r.set('banking77Cv', 'newQuestionLatencyMs', cold);
  r.add('BANKING77 CV', 'right answers lost to an unrelated context', pct(unrelatedContextHurt / Math.max(1, unrelatedContextAsked)));
  r.add('10k-question KB', 'word-feature model build', `${full.buildMs.toFixed(0)} ms`);
  if (e.encoder)
    r.add(
      '10k-question KB',
      'embedding bank + softmax head (embeddings cached; load avg)',
      `${full.embedMs.toFixed(0)} ms (${(loadavg()[0] as number).toFixed(1)})`,
    );
  if (e.encoder) {
    r.add(
      '10k-question KB',
      'encoding cost, cold: the examples (measured on 500, batched)',
      `${((coldEmbedMsPerExample * all.length) / 1000).toFixed(1)} s (${coldEmbedMsPerExample.toFixed(2)} ms each)`,
    );
  }
  r.add(
    '10k-question KB',
    `memory per tenant (heap${gc ? ' after gc' : ''} + typed arrays)`,
    `${(heapMb + bufMb).toFixed(1)} MB (${heapMb.toFixed(1)} + ${bufMb.toFixed(1)})`,
  );
  r.set('banking77Cv', 'top1', { mean: mean(top1), sd: sd(top1), perFold: top1 });
  r.set('banking77Cv', 'threshold', th);
  r.set('banking77Cv', 'atThreshold', at);
  r.set('banking77Cv', 'atOnePointFivePercentConfidentWrong', at15);
  r.set('banking77Cv', 'latencyMs', { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) });
  r.set('banking77Cv', 'curve', curveOf(top1Answers));
  r.set('knowledgeBase10k', 'featureBuildMs', full.buildMs);
  r.set('knowledgeBase10k', 'bankAndHeadMs', full.embedMs);
  r.set('knowledgeBase10k', 'embeddingColdMsPerExample', coldEmbedMsPerExample);
  r.set('knowledgeBase10k', 'memoryMb', { heap: heapMb, typedArrays: bufMb });
  printCurve('BANKING77 CV', top1Answers, false);
  if (args.calibrate) {
    console.log('temperature fit (held-out mean negative log-likelihood of the scores):');
    for (const T of [0.5, 0.65, 0.8, 1, 1.2, 1.5, 2, 3]) {
      let nll = 0;
      for (const o of calibration) {
        if (o.truth < 0) continue;
        const s = o.scores.map((x) => x / T);
        const m = Math.max(...s);
        const lse = m + Math.log(s.reduce((a, x) => a + Math.exp(x - m), 0));
        nll += lse - (s[o.truth] as number);
      }
      console.log(`  T=${T}: ${(nll / Math.max(1, calibration.length)).toFixed(4)}`);
    }
  }
}

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  const args = parseArgs(argv);
  const found = findDataDir(args.dataDir);
  if (!('dir' in found)) {
    console.error(
      `eval: no evaluation data. It is not part of the repository: put BANKING77 and CLINC150 (see the README's engine section)\n` +
        `in ../shared/data beside your clone, or pass --data-dir <dir> / set BEEDESK_DATA_DIR. Looked in: ${found.tried.join(', ') || '(nowhere)'}`,
    );
    return 2;
  }
  const dataDir = found.dir;
  let encoder: SentenceEncoder | null = null;
  if (args.engine !== 'features') {
    encoder = await SentenceEncoder.load(undefined, { cacheEntries: 100_000 });
    if (!encoder && args.engine === 'embeddings') {
      console.error('eval: --engine embeddings, but the model is not cached: run `bash ops/models/models.sh fetch`');
      return 2;
    }
  }
  const disk = encoder
    ? new EmbeddingDiskCache(
        join(process.env.BEEDESK_CACHE_DIR ?? join(homedir(), '.cache', 'beedesk'), 'embeddings'),
        `${encoder.name}-eval`,
      )
    : null;
  if (encoder && disk) disk.load(encoder);
  const engine = encoder ? `word features + ${encoder.name} sentence embeddings` : 'word features only';
  console.log(`engine: ${engine}; threshold ${args.threshold}; data ${dataDir}${args.sample < 1 ? `; sample ${args.sample}` : ''}`);
  if (args.patch > 0) {
    const all = loadBanking77(join(dataDir, 'banking77', 'train.csv'));
    patchEval(args, all, stratifiedFolds(all, args.folds, args.seed));
    return 0;
  }
  const report = new Report();
  const e = new Evaluation(args, encoder, report);
  const asked: string[] = [];
  for (const suite of args.suites) {
    if (suite === 'cn' || suite === 'followup') {
      const root = repoRoot();
      if (root) await (suite === 'cn' ? chineseSuite : followUpSuite)(e, join(root, 'ops', 'demo', 'data'));
      continue;
    }
    const need = suite === 'clinc' ? join(dataDir, 'clinc150', 'train.csv') : join(dataDir, 'banking77', 'train.csv');
    if (!existsSync(need)) {
      console.error(`eval: ${need} is missing; skipping the ${suite} suite`);
      continue;
    }
    if (suite === 'clinc') await clincSuite(e, dataDir);
    else if (suite === 'open') await openSuite(e, dataDir);
    else if (suite === 'latency') await latencySuite(e, dataDir);
    else await cvSuite(e, dataDir);
  }
  if (encoder && disk) {
    for (const file of ['banking77/train.csv', 'clinc150/train.csv', 'clinc150/val.csv', 'clinc150/oos_val.csv'])
      if (existsSync(join(dataDir, file)))
        for (const q of loadLabelled(join(dataDir, file), file.startsWith('banking') ? 'category' : 'intent')) asked.push(q.text);
    await disk.save(encoder, asked);
  }
  report.set('run', 'engine', engine);
  report.set('run', 'threshold', args.threshold);
  report.set('run', 'sample', args.sample);
  report.set('run', 'node', process.version);
  report.print();
  if (args.json) {
    writeFileSync(args.json, `${JSON.stringify(report.json, null, 2)}\n`);
    console.log(`\nwrote ${args.json}`);
  }
  await encoder?.close();
  return 0;
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

if (require.main === module)
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
