/**
 * Gateway memory under distinct documents (issue 11 point 6): the beedesk gateway in generic mode
 * over the gateway benchmark's four subgraphs, its RSS measured before and after
 *
 *   1. 1,000 distinct large documents (`query { … } # <n> <padding>`, 1 MiB each by default: past
 *      MAX_QUERY_BYTES, so refused with QUERY_TOO_LARGE, never parsed nor cached),
 *   2. 1,000 distinct documents just under MAX_QUERY_BYTES (valid: parsed, validated, planned,
 *      cached until DOCUMENT_CACHE_MAX_BYTES),
 *   3. 10,000 distinct small documents (valid, executed).
 *
 * and checked against a stated bound: RSS growth over the whole run at most `--bound-mb` (default
 * 200 MB: the 32 MiB cache budget, V8's slack and the plan cache beside it). With `--baseline-main
 * <gateway/dist/main.js of another checkout>` the same load runs against that build first, as a
 * baseline in the same run (e.g. the code before the bound, built from commit a81ab20).
 *
 *   node ops/dist/bench/gateway-memory/run.js [--baseline-main <path>] [--large 1000] [--large-kb 1024]
 *        [--near 1000] [--small 10000] [--concurrency 8] [--bound-mb 200] [--base-port 16210]
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { repoRoot } from '../../cluster';
import { composeBenchSupergraph } from '../gateway/compose';
import { argValue, cpuMs, HOST, rssKb } from '../gateway/proc';
import { killNow, startGateway, startSubgraphs, stopChild } from '../gateway/run';

interface Phase {
  name: string;
  count: number;
  document: (i: number) => string;
}

interface PhaseResult {
  name: string;
  requests: number;
  statuses: Record<string, number>;
  rssAfterMb: number;
  cpuMsPerRequest: number;
  seconds: number;
}

const num = (flag: string, fallback: number): number => {
  const raw = argValue(process.argv.slice(2), flag);
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${flag} must be a number >= 0, got ${raw}`);
  return n;
};

const mb = (kb: number): number => Math.round(kb / 1024);
const log = (message: string) => console.error(`[bench:gateway-memory] ${message}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A comment of `bytes` bytes that differs per document (the issue's `query{__typename} #<15 MB>` shape). */
const padded = (head: string, i: number, bytes: number): string => {
  const start = `${head} # ${i} `;
  return start + 'x'.repeat(Math.max(0, bytes - start.length));
};

async function send(port: number, query: string): Promise<number> {
  try {
    const res = await fetch(`http://${HOST}:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
      signal: AbortSignal.timeout(30_000),
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

async function runPhase(port: number, pid: number, phase: Phase, concurrency: number): Promise<PhaseResult> {
  const statuses: Record<string, number> = {};
  const cpuBefore = cpuMs(pid);
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < phase.count) {
        const status = await send(port, phase.document(next++));
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpuMsPerRequest = (cpuMs(pid) - cpuBefore) / Math.max(1, phase.count);
  await sleep(1000);
  return { name: phase.name, requests: phase.count, statuses, rssAfterMb: mb(rssKb(pid)), cpuMsPerRequest, seconds };
}

async function measure(
  label: string,
  main: string,
  port: number,
  supergraph: string,
  workDir: string,
  phases: Phase[],
  concurrency: number,
) {
  const gateway = await startGateway('ours', supergraph, port, join(workDir, `gateway-${label}.log`), workDir, main);
  if (typeof gateway === 'string') throw new Error(`${label}: the gateway did not start: ${gateway}`);
  try {
    // Warm-up: the same small document, so start-up allocations are not counted as growth.
    for (let i = 0; i < 200; i++) await send(port, '{ topProducts { upc name } }');
    await sleep(1000);
    const before = mb(rssKb(gateway.pid));
    log(`${label}: RSS ${before} MB before`);
    const results: PhaseResult[] = [];
    for (const phase of phases) {
      const result = await runPhase(port, gateway.pid, phase, concurrency);
      log(
        `${label}: ${phase.name}: RSS ${result.rssAfterMb} MB after, statuses ${JSON.stringify(result.statuses)}, ` +
          `${result.cpuMsPerRequest.toFixed(2)} ms CPU per request, ${result.seconds.toFixed(1)} s`,
      );
      results.push(result);
      if (result.rssAfterMb === 0) break; // the gateway died (out of memory)
    }
    return { label, before, results };
  } finally {
    await stopChild(gateway.child);
  }
}

async function main(): Promise<void> {
  const basePort = num('--base-port', 16210);
  const concurrency = Math.max(1, Math.floor(num('--concurrency', 8)));
  const boundMb = num('--bound-mb', 200);
  const largeBytes = num('--large-kb', 1024) * 1024;
  const baselineMain = argValue(process.argv.slice(2), '--baseline-main');
  const phases: Phase[] = [
    {
      name: `${num('--large', 1000)} distinct large documents (${largeBytes / 1024} KiB)`,
      count: num('--large', 1000),
      document: (i) => padded('query { topProducts { upc name } }', i, largeBytes),
    },
    {
      name: `${num('--near', 1000)} distinct documents of 95 kB (valid, under MAX_QUERY_BYTES)`,
      count: num('--near', 1000),
      document: (i) => padded(`query Near${i} { topProducts { upc name } }`, i, 95_000),
    },
    {
      name: `${num('--small', 10000)} distinct small documents`,
      count: num('--small', 10000),
      document: (i) => `query Small${i} { s${i}: __typename }`,
    },
  ];

  process.on('exit', killNow);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  const workDir = mkdtempSync(join(tmpdir(), 'beedesk-gateway-memory-'));
  const supergraph = join(workDir, 'supergraph.graphql');
  writeFileSync(supergraph, composeBenchSupergraph(basePort));
  const subgraphs = await startSubgraphs(basePort, workDir);
  log(`subgraphs up; logs in ${workDir}; concurrency ${concurrency}`);
  const runs = [];
  try {
    if (baselineMain) runs.push(await measure('baseline', resolve(baselineMain), basePort + 11, supergraph, workDir, phases, concurrency));
    runs.push(await measure('ours', join(repoRoot, 'gateway/dist/main.js'), basePort + 10, supergraph, workDir, phases, concurrency));
  } finally {
    for (const s of subgraphs) await stopChild(s.child);
  }

  console.log(`\nGateway RSS (MB) with the default MAX_QUERY_BYTES and DOCUMENT_CACHE_MAX_BYTES; bound: growth <= ${boundMb} MB\n`);
  console.log(`| gateway | before | ${phases.map((p) => `after ${p.name}`).join(' | ')} | growth | within bound |`);
  console.log(`|---|---|${phases.map(() => '---|').join('')}---|---|`);
  let ok = true;
  for (const run of runs) {
    const peak = Math.max(...run.results.map((r) => r.rssAfterMb));
    const died = run.results.some((r) => r.rssAfterMb === 0) || run.results.length < phases.length;
    const growth = peak - run.before;
    const within = !died && growth <= boundMb;
    if (run.label === 'ours' && !within) ok = false;
    const cells = phases.map((_, i) => {
      const r = run.results[i];
      return r
        ? `${r.rssAfterMb === 0 ? 'died' : r.rssAfterMb} (${Object.entries(r.statuses)
            .map(([s, n]) => `${n}×${s}`)
            .join(', ')}; ${r.cpuMsPerRequest.toFixed(2)} ms CPU/req)`
        : '–';
    });
    console.log(`| ${run.label} | ${run.before} | ${cells.join(' | ')} | ${died ? 'died' : `+${growth}`} | ${within ? 'yes' : 'no'} |`);
  }
  const [baseline, ours] = runs.length === 2 ? runs : [undefined, runs[0]];
  if (baseline && ours) {
    const growthOf = (r: typeof ours) => Math.max(...r.results.map((x) => x.rssAfterMb)) - r.before;
    console.log(`\nratio of RSS growth, baseline / ours: ${(growthOf(baseline) / Math.max(1, growthOf(ours))).toFixed(1)}×`);
  }
  process.exitCode = ok ? 0 : 1;
}

void main().catch((error: unknown) => {
  log(`error: ${(error as Error).stack ?? String(error)}`);
  killNow();
  process.exitCode = 1;
});
