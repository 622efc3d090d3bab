/**
 * Federation gateway benchmark (issue 7): the four-subgraph scenario behind `ours` (the beedesk
 * gateway), `hive` (Hive Gateway) and `apollo` (@apollo/gateway in @apollo/server), one gateway after
 * the other, each under autocannon at fixed concurrency for two queries, every response checked.
 *
 *   node ops/dist/bench/gateway/run.js [--duration 20] [--warmup 5] [--connections 50]
 *        [--only ours,hive,apollo[,hive-nodedup,ours-trace10,ours-trace100]] [--queries nested,list] [--json results.json]
 *        [--base-port 4800] [--strict-order] [--keep-logs] [--ours-main gateway/dist/main.js]
 *
 * Everything it starts is killed at the end, on SIGINT/SIGTERM, on errors and by a watchdog.
 */
import autocannon from 'autocannon';
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { repoRoot } from '../../cluster';
import { ResponseChecker, type Variant, type WrongSample } from './check';
import { composeBenchSupergraph, DEFAULT_BASE_PORT, subgraphPort } from './compose';
import { generateDataset, indexDataset } from './data';
import { argValue, cpuMs, HOST, machineBusyMs, processTree, rssKb, sum } from './proc';
import { expectedBody, QUERIES, requestBody, type BenchQuery } from './queries';
import type { SubgraphStats } from './subgraph-server';
import { SUBGRAPH_NAMES, type SubgraphName } from './subgraphs';

/** `hive-nodedup`: Hive Gateway with its deduplication of identical in-flight subgraph requests off (opt-in, see README). */
export const GATEWAY_IDS = ['ours', 'hive', 'apollo', 'hive-nodedup', 'ours-trace10', 'ours-trace100'] as const;
export type GatewayId = (typeof GATEWAY_IDS)[number];
const DEFAULT_GATEWAYS: readonly GatewayId[] = ['ours', 'hive', 'apollo'];

export interface Options {
  duration: number;
  warmup: number;
  connections: number;
  only: GatewayId[];
  queries: string[];
  json: string | undefined;
  basePort: number;
  strictOrder: boolean;
  keepLogs: boolean;
  /** The beedesk gateway's entry point (default gateway/dist/main.js). */
  oursMain: string;
}

const READY_TIMEOUT_MS = 20_000;
const REQUEST_TIMEOUT_S = 10;
const GRAPHQL_PATH = '/graphql';

export function parseOptions(argv: readonly string[]): Options {
  const num = (flag: string, fallback: number, min: number): number => {
    const raw = argValue(argv, flag);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) throw new Error(`${flag} must be a number >= ${min}, got ${raw}`);
    return n;
  };
  const list = (flag: string, allowed: readonly string[], fallback: readonly string[] = allowed): string[] => {
    const raw = argValue(argv, flag);
    if (raw === undefined) return [...fallback];
    const items = raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const unknown = items.filter((i) => !allowed.includes(i));
    if (unknown.length > 0 || items.length === 0)
      throw new Error(`${flag} takes a comma-separated subset of ${allowed.join(',')}, got ${raw}`);
    return items;
  };
  return {
    duration: num('--duration', 20, 1),
    warmup: num('--warmup', 5, 0),
    connections: Math.floor(num('--connections', 50, 1)),
    only: list('--only', GATEWAY_IDS, DEFAULT_GATEWAYS) as GatewayId[],
    queries: list(
      '--queries',
      QUERIES.map((q) => q.name),
    ),
    json: argValue(argv, '--json'),
    basePort: Math.floor(num('--base-port', DEFAULT_BASE_PORT, 1024)),
    strictOrder: argv.includes('--strict-order'),
    keepLogs: argv.includes('--keep-logs'),
    oursMain: resolve(argValue(argv, '--ours-main') ?? join(repoRoot, 'gateway', 'dist', 'main.js')),
  };
}

/**
 * `ours-trace10` / `ours-trace100`: our gateway with OpenTelemetry tracing on, sampling 10 % / 100 %
 * of requests (parent-based ratio), exporting OTLP/HTTP to a sink in this process that counts spans.
 */
export const TRACED: Partial<Record<GatewayId, number>> = { 'ours-trace10': 0.1, 'ours-trace100': 1 };
const isOurs = (id: GatewayId): boolean => id === 'ours' || TRACED[id] !== undefined;

/** Where the traced gateways export: an OTLP/HTTP sink on base port + 30. */
export const otlpSinkPort = (basePort: number): number => basePort + 30;

export function gatewayPort(id: GatewayId, basePort: number): number {
  return basePort + 10 + GATEWAY_IDS.indexOf(id);
}

// ---------------------------------------------------------------- child processes

const children = new Set<ChildProcess>();
/** Temporary directories to remove on exit, including on SIGINT (unless --keep-logs). */
const tempDirs = new Set<string>();
/** Descendants seen under a gateway (workers it may fork), killed with it. */
const extraPids = new Set<number>();

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

export function killNow(): void {
  for (const child of children) if (alive(child)) child.kill('SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
  for (const pid of extraPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export async function stopChild(child: ChildProcess, pids: readonly number[] = []): Promise<void> {
  if (alive(child)) {
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (alive(child)) child.kill('SIGKILL');
    }, 5_000);
    await exited;
    clearTimeout(timer);
  }
  for (const pid of pids) {
    if (pid === child.pid) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
    extraPids.delete(pid);
  }
  children.delete(child);
}

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => {
    if (child.pid !== undefined) extraPids.delete(child.pid);
  });
  return child;
}

/** Env for a child: ours, minus settings the peers would read from the environment (ports, forks, keys). */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  const dropped = /^(HIVE_|APOLLO_|OPENTELEMETRY|OTEL_)|^(PORT|HOST|FORK|POLLING|JIT|CONFIG_PATH|NODE_OPTIONS)$/;
  for (const [k, v] of Object.entries(process.env)) if (!dropped.test(k)) env[k] = v;
  return { ...env, ...extra };
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, HOST, () => server.close(() => done(true)));
  });
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

async function post(port: number, body: string, timeoutMs = 5_000): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://${HOST}:${port}${GRAPHQL_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: res.status, text: await res.text() };
}

interface Subgraph {
  name: SubgraphName;
  child: ChildProcess;
  pid: number;
}

export async function startSubgraphs(basePort: number, logDir: string): Promise<Subgraph[]> {
  const script = join(__dirname, 'subgraph-server.js');
  const started = SUBGRAPH_NAMES.map((name) => {
    const logFile = join(logDir, `subgraph-${name}.log`);
    const log = openSync(logFile, 'a');
    const child = track(
      fork(script, ['--name', name, '--port', String(subgraphPort(name, basePort))], {
        stdio: ['ignore', log, log, 'ipc'],
        env: childEnv({ NODE_ENV: 'production' }),
      }),
    );
    closeSync(log);
    return new Promise<Subgraph>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`subgraph ${name} did not start within 10 s:\n${tail(logFile)}`)), 10_000);
      const onMessage = (message: unknown) => {
        if (!isMessage(message, 'ready') || child.pid === undefined) return;
        clearTimeout(timer);
        child.off('message', onMessage);
        done({ name, child, pid: child.pid });
      };
      child.on('message', onMessage);
      child.once('exit', (code) => {
        clearTimeout(timer);
        fail(new Error(`subgraph ${name} exited (${code}):\n${tail(logFile)}`));
      });
    });
  });
  return Promise.all(started);
}

function isMessage(message: unknown, type: string): boolean {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
}

/** The subgraphs' request counters, asked over IPC (zeros for one that does not answer within 2 s). */
async function subgraphStats(subgraphs: readonly Subgraph[]): Promise<SubgraphStats[]> {
  return Promise.all(
    subgraphs.map(
      ({ name, child }) =>
        new Promise<SubgraphStats>((done) => {
          const timer = setTimeout(() => {
            child.off('message', onMessage);
            done({ name, requests: 0, bytesIn: 0 });
          }, 2_000);
          const onMessage = (message: unknown) => {
            if (!isMessage(message, 'stats')) return;
            clearTimeout(timer);
            child.off('message', onMessage);
            done(message as SubgraphStats);
          };
          child.on('message', onMessage);
          if (alive(child)) child.send({ type: 'stats' });
        }),
    ),
  );
}

// ---------------------------------------------------------------- gateways

interface GatewayLaunch {
  command: string;
  args: string[];
  env: Record<string, string>;
  /** How readiness is checked: GET /health (ours) or a trivial `{ __typename }` query (the peers). */
  health: 'get-health' | 'typename';
  /** Open an IPC channel: our own child scripts exit when it closes, even if this process is SIGKILLed. */
  ipc?: boolean;
}

/** Hive Gateway config that turns off @graphql-tools/executor-http's sharing of identical in-flight subgraph requests. */
const HIVE_NODEDUP_CONFIG = `module.exports.gatewayConfig = {
  transportEntries: { '*': { options: { deduplicateInflightRequests: false } } },
};
`;

function launchOf(
  id: GatewayId,
  supergraph: string,
  port: number,
  oursMain: string,
  workDir: string,
  tracesUrl: string,
): GatewayLaunch | string {
  switch (id) {
    case 'ours':
    case 'ours-trace10':
    case 'ours-trace100': {
      const main = oursMain;
      if (!existsSync(main)) return `${main} not found (gateway not built)`;
      const ratio = TRACED[id];
      return {
        command: process.execPath,
        args: [main, '--supergraph', supergraph, '--auth', 'none', '--port', String(port)],
        env: {
          NODE_ENV: 'development',
          ...(ratio === undefined ? {} : { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: tracesUrl, OTEL_TRACES_SAMPLER_ARG: String(ratio) }),
        },
        health: 'get-health',
      };
    }
    case 'hive':
    case 'hive-nodedup': {
      // The package's CommonJS CLI entry: node_modules/.bin/hive-gateway is the ESM build, which
      // fails to link under the root overrides of @graphql-tools/utils (see README).
      const bin = join(dirname(require.resolve('@graphql-hive/gateway')), 'bin.cjs');
      const config: string[] = [];
      if (id === 'hive-nodedup') {
        const file = join(workDir, 'hive-nodedup.config.cjs');
        writeFileSync(file, HIVE_NODEDUP_CONFIG);
        config.push('--config-path', file);
      }
      return {
        command: process.execPath,
        args: [bin, 'supergraph', supergraph, ...config, '--host', HOST, '--port', String(port)],
        env: { NODE_ENV: 'production' },
        health: 'typename',
      };
    }
    case 'apollo':
      return {
        command: process.execPath,
        args: [join(__dirname, 'apollo-gateway.js'), '--supergraph', supergraph, '--port', String(port)],
        env: { NODE_ENV: 'production' },
        health: 'typename',
        ipc: true,
      };
  }
}

async function healthy(launch: GatewayLaunch, port: number): Promise<boolean> {
  try {
    if (launch.health === 'get-health') {
      const res = await fetch(`http://${HOST}:${port}/health`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      return res.status === 200;
    }
    const { status, text } = await post(port, '{"query":"{ __typename }"}', 2_000);
    return status === 200 && text.includes('"__typename":"Query"');
  } catch {
    return false;
  }
}

interface Started {
  child: ChildProcess;
  pid: number;
}

export async function startGateway(
  id: GatewayId,
  supergraph: string,
  port: number,
  logFile: string,
  workDir: string,
  oursMain: string,
  tracesUrl = '',
): Promise<Started | string> {
  const launch = launchOf(id, supergraph, port, oursMain, workDir, tracesUrl);
  if (typeof launch === 'string') return launch;
  if (!(await portFree(port))) return `port ${port} is already in use`;
  const log = openSync(logFile, 'a');
  const child = track(
    spawn(launch.command, launch.args, {
      cwd: isOurs(id) ? repoRoot : workDir,
      env: childEnv(launch.env),
      stdio: launch.ipc ? ['ignore', log, log, 'ipc'] : ['ignore', log, log],
    }),
  );
  closeSync(log);
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (spawnError || !alive(child) || child.pid === undefined) break;
    if (await healthy(launch, port)) return { child, pid: child.pid };
    await sleep(250);
  }
  const why = spawnError
    ? spawnError.message
    : alive(child)
      ? `not healthy within ${READY_TIMEOUT_MS / 1000} s`
      : `exited with ${child.exitCode ?? child.signalCode}`;
  await stopChild(child);
  return `${why}${tail(logFile) ? `\n${tail(logFile)}` : ''}`;
}

// ---------------------------------------------------------------- load

interface LoadOutcome {
  durationS: number;
  responses: number;
  ok: number;
  wrong: number;
  non2xx: number;
  /** Connection errors, timeouts included. */
  socketErrors: number;
  timeouts: number;
  latenciesMs: number[];
  variants: Variant[];
  firstWrong: WrongSample | undefined;
}

function load(port: number, q: BenchQuery, expected: string, durationS: number, opts: Options): Promise<LoadOutcome> {
  const checker = new ResponseChecker(expected, opts.strictOrder);
  const latenciesMs: number[] = [];
  const body = requestBody(q);
  const headers = { 'content-type': 'application/json' };
  return new Promise((done, fail) => {
    const instance = autocannon(
      {
        url: `http://${HOST}:${port}${GRAPHQL_PATH}`,
        connections: opts.connections,
        duration: durationS,
        timeout: REQUEST_TIMEOUT_S,
        method: 'POST',
        headers,
        body,
        requests: [{ method: 'POST', path: GRAPHQL_PATH, headers, body, onResponse: (status, text) => void checker.check(status, text) }],
      },
      (err, result) => {
        if (err) {
          fail(err);
          return;
        }
        done({
          durationS: result.duration,
          responses: checker.total,
          ok: checker.ok,
          wrong: checker.wrong,
          non2xx: checker.non2xx,
          socketErrors: result.errors,
          timeouts: result.timeouts,
          latenciesMs,
          variants: [...checker.variants.values()],
          firstWrong: checker.firstWrong,
        });
      },
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => {
      latenciesMs.push(responseTime);
    });
  });
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export interface Row {
  gateway: GatewayId;
  query: string;
  status: 'ok' | 'failed to start' | 'failed';
  reason?: string;
  /** Correct responses per second. */
  rps?: number;
  p50Ms?: number;
  p95Ms?: number;
  p99Ms?: number;
  /** non-2xx + wrong bodies + socket errors (timeouts included). */
  errors?: number;
  responses?: number;
  wrong?: number;
  non2xx?: number;
  socketErrors?: number;
  timeouts?: number;
  peakRssMb?: number;
  /** Gateway process (tree) CPU time per response, ms. */
  cpuMsPerRequest?: number;
  /** Spans the OTLP sink received per response during the run (traced gateways only). */
  spansPerRequest?: number;
  /** The four subgraphs' CPU time per response, ms (same work for every gateway, up to its query plan). */
  subgraphCpuMsPerRequest?: number;
  /** Requests the gateway sent to the subgraphs per response, in total and by subgraph. */
  subgraphFetchesPerRequest?: number;
  subgraphFetches?: Record<string, number>;
  /** The load generator's (this process's) CPU time per response, ms. */
  driverCpuMsPerRequest?: number;
  /** Cores the gateway kept busy on average (CPU time / wall time): near 1 means a saturated Node process. */
  gatewayCores?: number;
  /** Cores busy with anything else on the machine (not gateway, subgraphs, or this driver): the noise. */
  otherCores?: number;
  durationS?: number;
  warmup?: { responses: number; errors: number };
  variants?: Variant[];
  firstWrong?: WrongSample;
}

async function measure(
  id: GatewayId,
  gw: Started,
  q: BenchQuery,
  expected: string,
  subgraphs: readonly Subgraph[],
  opts: Options,
): Promise<Row> {
  const subgraphPids = subgraphs.map((s) => s.pid);
  let warmup: Row['warmup'];
  if (opts.warmup > 0) {
    const w = await load(gatewayPort(id, opts.basePort), q, expected, opts.warmup, opts);
    warmup = { responses: w.responses, errors: w.wrong + w.non2xx + w.socketErrors };
  }
  const tree = processTree(gw.pid);
  for (const pid of tree) if (pid !== gw.pid) extraPids.add(pid);
  let peakRssKb = sum(tree.map(rssKb));
  const sampler = setInterval(() => {
    peakRssKb = Math.max(peakRssKb, sum(tree.map(rssKb)));
  }, 200);
  const cpu0 = sum(tree.map(cpuMs));
  const sub0 = sum(subgraphPids.map(cpuMs));
  const stats0 = await subgraphStats(subgraphs);
  const machine0 = machineBusyMs();
  const self0 = process.cpuUsage();
  let out: LoadOutcome;
  try {
    out = await load(gatewayPort(id, opts.basePort), q, expected, opts.duration, opts);
  } finally {
    clearInterval(sampler);
  }
  const self = process.cpuUsage(self0);
  const machine = machineBusyMs() - machine0;
  const cpu = sum(tree.map(cpuMs)) - cpu0;
  const per = (value: number) => (out.responses > 0 ? value / out.responses : Number.NaN);
  const sub = sum(subgraphPids.map(cpuMs)) - sub0;
  const stats1 = await subgraphStats(subgraphs);
  const fetches: Record<string, number> = {};
  stats1.forEach((s, i) => (fetches[s.name] = per(s.requests - (stats0[i]?.requests ?? 0))));
  peakRssKb = Math.max(peakRssKb, sum(tree.map(rssKb)));
  const sorted = Float64Array.from(out.latenciesMs).sort();
  return {
    gateway: id,
    query: q.name,
    status: alive(gw.child) ? 'ok' : 'failed',
    ...(alive(gw.child) ? {} : { reason: 'gateway process died during the run' }),
    rps: out.ok / out.durationS,
    p50Ms: percentile(Array.from(sorted), 50),
    p95Ms: percentile(Array.from(sorted), 95),
    p99Ms: percentile(Array.from(sorted), 99),
    errors: out.wrong + out.non2xx + out.socketErrors,
    responses: out.responses,
    wrong: out.wrong,
    non2xx: out.non2xx,
    socketErrors: out.socketErrors,
    timeouts: out.timeouts,
    peakRssMb: peakRssKb / 1024,
    cpuMsPerRequest: per(cpu),
    subgraphCpuMsPerRequest: per(sub),
    subgraphFetchesPerRequest: sum(Object.values(fetches)),
    subgraphFetches: fetches,
    driverCpuMsPerRequest: per((self.user + self.system) / 1000),
    gatewayCores: cpu / 1000 / out.durationS,
    otherCores: Math.max(0, (machine - cpu - sub - (self.user + self.system) / 1000) / 1000 / out.durationS),
    durationS: out.durationS,
    ...(warmup ? { warmup } : {}),
    variants: out.variants,
    ...(out.firstWrong ? { firstWrong: out.firstWrong } : {}),
  };
}

/** One request per query before the load, so a wrong answer is explained once, up front. */
async function probe(id: GatewayId, q: BenchQuery, expected: string, opts: Options): Promise<string> {
  try {
    const { status, text } = await post(gatewayPort(id, opts.basePort), requestBody(q));
    const checker = new ResponseChecker(expected, opts.strictOrder);
    if (checker.check(status, text)) {
      const variant = [...checker.variants.values()][0];
      return variant ? `correct (${variant.note})` : 'correct (byte-identical)';
    }
    return `WRONG: ${checker.firstWrong?.reason ?? '?'}; body starts ${JSON.stringify(text.slice(0, 200))}`;
  } catch (err) {
    return `WRONG: request failed: ${(err as Error).message}`;
  }
}

// ---------------------------------------------------------------- report

const fmt = (n: number | undefined, digits = 1): string => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(digits));

export function markdownTable(rows: readonly Row[]): string {
  const lines = [
    '| gateway | query | req/s | p50 ms | p95 ms | p99 ms | errors | peak RSS MB | CPU ms/req | gateway cores | subgraph fetches/req | subgraphs CPU ms/req | other load (cores) |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of rows) {
    if (r.status === 'failed to start') {
      lines.push(`| ${r.gateway} | ${r.query} | failed to start | | | | | | | | | | |`);
      continue;
    }
    const errors = `${r.errors ?? '–'}${r.status === 'failed' ? ' (died)' : ''}`;
    lines.push(
      `| ${r.gateway} | ${r.query} | ${fmt(r.rps, 0)} | ${fmt(r.p50Ms)} | ${fmt(r.p95Ms)} | ${fmt(r.p99Ms)} | ${errors} | ${fmt(r.peakRssMb, 0)} | ${fmt(r.cpuMsPerRequest, 2)} | ${fmt(r.gatewayCores, 2)} | ${fmt(r.subgraphFetchesPerRequest, 1)} | ${fmt(r.subgraphCpuMsPerRequest, 2)} | ${fmt(r.otherCores, 2)} |`,
    );
  }
  return lines.join('\n');
}

export interface Ratio {
  query: string;
  peer: GatewayId;
  rps: number;
  p99: number;
  cpuPerRequest: number;
}

/** ours ÷ peer for req/s (higher is better), p99 and CPU/request (lower is better). */
export function ratios(rows: readonly Row[]): Ratio[] {
  const out: Ratio[] = [];
  for (const ours of rows.filter((r) => r.gateway === 'ours' && r.status === 'ok')) {
    for (const peer of rows.filter((r) => !isOurs(r.gateway) && r.status === 'ok' && r.query === ours.query)) {
      out.push({
        query: ours.query,
        peer: peer.gateway,
        rps: (ours.rps ?? Number.NaN) / (peer.rps ?? Number.NaN),
        p99: (ours.p99Ms ?? Number.NaN) / (peer.p99Ms ?? Number.NaN),
        cpuPerRequest: (ours.cpuMsPerRequest ?? Number.NaN) / (peer.cpuMsPerRequest ?? Number.NaN),
      });
    }
  }
  return out;
}

export interface TracingRatio {
  query: string;
  gateway: GatewayId;
  ratio: number;
  /** traced ÷ untraced (`ours`): CPU per request (the cost), req/s, p99. */
  cpuPerRequest: number;
  rps: number;
  p99: number;
  /** Spans the sink received per response during the measured run. */
  spansPerRequest: number | undefined;
}

/** The cost of tracing: each traced run of ours against ours with tracing off, per query. */
export function tracingRatios(rows: readonly Row[]): TracingRatio[] {
  const out: TracingRatio[] = [];
  for (const off of rows.filter((r) => r.gateway === 'ours' && r.status === 'ok')) {
    for (const on of rows.filter((r) => TRACED[r.gateway] !== undefined && r.status === 'ok' && r.query === off.query)) {
      out.push({
        query: on.query,
        gateway: on.gateway,
        ratio: TRACED[on.gateway]!,
        cpuPerRequest: (on.cpuMsPerRequest ?? Number.NaN) / (off.cpuMsPerRequest ?? Number.NaN),
        rps: (on.rps ?? Number.NaN) / (off.rps ?? Number.NaN),
        p99: (on.p99Ms ?? Number.NaN) / (off.p99Ms ?? Number.NaN),
        spansPerRequest: on.spansPerRequest,
      });
    }
  }
  return out;
}

export function tracingTable(list: readonly TracingRatio[]): string {
  if (list.length === 0) return '';
  const lines = ['| query | tracing ÷ off | sampled | CPU/req | req/s | p99 | spans exported/req |', '|---|---|--:|--:|--:|--:|--:|'];
  for (const r of list) {
    lines.push(
      `| ${r.query} | ${r.gateway} | ${r.ratio * 100} % | ${fmt(r.cpuPerRequest, 2)}× | ${fmt(r.rps, 2)}× | ${fmt(r.p99, 2)}× | ${fmt(r.spansPerRequest, 2)} |`,
    );
  }
  return lines.join('\n');
}

export function ratioTable(list: readonly Ratio[]): string {
  if (list.length === 0) return '(no ratios: `ours` and at least one peer must both have run)';
  const lines = [
    '| query | ours ÷ | req/s (higher is better) | p99 (lower is better) | CPU/req (lower is better) |',
    '|---|---|--:|--:|--:|',
  ];
  for (const r of list) lines.push(`| ${r.query} | ${r.peer} | ${fmt(r.rps, 2)}× | ${fmt(r.p99, 2)}× | ${fmt(r.cpuPerRequest, 2)}× |`);
  return lines.join('\n');
}

// ---------------------------------------------------------------- OTLP sink

/** Receives the traced gateways' OTLP/HTTP exports and counts their spans (as a collector would, minus storing them). */
async function startOtlpSink(port: number): Promise<{ url: string; spans: () => number; close: () => Promise<void> }> {
  let spans = 0;
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          resourceSpans?: { scopeSpans?: { spans?: unknown[] }[] }[];
        };
        for (const r of body.resourceSpans ?? []) for (const sc of r.scopeSpans ?? []) spans += sc.spans?.length ?? 0;
      } catch {
        // not JSON: counted as nothing
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => resolve());
  });
  return {
    url: `http://${HOST}:${port}/v1/traces`,
    spans: () => spans,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// ---------------------------------------------------------------- main

export async function runBenchmark(opts: Options): Promise<{ rows: Row[]; ratios: Ratio[] }> {
  const workDir = mkdtempSync(join(tmpdir(), 'beedesk-gateway-bench-'));
  if (!opts.keepLogs) tempDirs.add(workDir);
  const rows: Row[] = [];
  try {
    const supergraph = join(workDir, 'supergraph.graphql');
    writeFileSync(supergraph, composeBenchSupergraph(opts.basePort));
    const ix = indexDataset(generateDataset());
    const queries = QUERIES.filter((q) => opts.queries.includes(q.name));
    const expected = new Map(queries.map((q) => [q.name, expectedBody(q, ix)]));

    const ports = [...SUBGRAPH_NAMES.map((n) => subgraphPort(n, opts.basePort)), ...opts.only.map((g) => gatewayPort(g, opts.basePort))];
    const busy: number[] = [];
    for (const p of ports) if (!(await portFree(p))) busy.push(p);
    if (busy.length > 0) throw new Error(`ports already in use on ${HOST}: ${busy.join(', ')} (pick another --base-port)`);

    log(`supergraph ${supergraph}; logs in ${workDir}`);
    log(
      `${cpus().length} CPUs, load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}, node ${process.version}`,
    );
    const sink = opts.only.some((id) => TRACED[id] !== undefined) ? await startOtlpSink(otlpSinkPort(opts.basePort)) : null;
    const subgraphs = await startSubgraphs(opts.basePort, workDir);
    log(`subgraphs up: ${SUBGRAPH_NAMES.map((n) => `${n}:${subgraphPort(n, opts.basePort)}`).join(' ')}`);

    for (const id of opts.only) {
      const port = gatewayPort(id, opts.basePort);
      const logFile = join(workDir, `gateway-${id}.log`);
      log(`${id}: starting on port ${port}`);
      const gw = await startGateway(id, supergraph, port, logFile, workDir, opts.oursMain, sink?.url);
      if (typeof gw === 'string') {
        log(`${id}: failed to start: ${gw}`);
        for (const q of queries) rows.push({ gateway: id, query: q.name, status: 'failed to start', reason: gw });
        continue;
      }
      try {
        for (const q of queries) log(`${id}: ${q.name}: ${await probe(id, q, expected.get(q.name) as string, opts)}`);
        for (const q of queries) {
          if (!alive(gw.child)) {
            rows.push({ gateway: id, query: q.name, status: 'failed', reason: `gateway exited:\n${tail(logFile)}` });
            continue;
          }
          log(`${id}: ${q.name}: warm-up ${opts.warmup} s, then ${opts.duration} s at ${opts.connections} connections`);
          const spans0 = sink?.spans() ?? 0;
          const row = await measure(id, gw, q, expected.get(q.name) as string, subgraphs, opts);
          if (sink && TRACED[id] !== undefined) {
            // Spans of the run's last second arrive with the next export (1 s schedule).
            await new Promise((r) => setTimeout(r, 1_500));
            row.spansPerRequest = (sink.spans() - spans0) / (row.responses ?? Number.NaN);
          }
          rows.push(row);
          log(
            `${id}: ${q.name}: ${fmt(row.rps, 0)} req/s, p99 ${fmt(row.p99Ms)} ms, ${row.errors} errors, CPU ${fmt(row.cpuMsPerRequest, 2)} ms/req, ` +
              `gateway ${fmt(row.gatewayCores, 2)} cores, others ${fmt(row.otherCores, 2)} cores` +
              (row.firstWrong ? `; first error: ${row.firstWrong.reason}` : '') +
              (row.variants?.length ? `; accepted variants: ${row.variants.map((v) => `${v.note} (${v.count}×)`).join(' | ')}` : ''),
          );
        }
      } finally {
        await stopChild(gw.child, processTree(gw.pid));
      }
    }
    for (const { child } of subgraphs) await stopChild(child);
    await sink?.close();
    const ratioList = ratios(rows);
    const tracing = tracingRatios(rows);

    console.log(`\n${markdownTable(rows)}\n\n${ratioTable(ratioList)}\n${tracing.length ? `\n${tracingTable(tracing)}\n` : ''}`);
    console.log(
      `${opts.duration} s per query after ${opts.warmup} s warm-up, ${opts.connections} connections; req/s counts correct responses only; ` +
        'CPU and RSS are of the gateway process tree, from /proc.',
    );
    if (opts.json) {
      const report = {
        date: new Date().toISOString(),
        node: process.version,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        loadavgAfter: loadavg(),
        options: opts,
        queries: queries.map((q) => {
          const body = expected.get(q.name) as string;
          return {
            name: q.name,
            description: q.description,
            expectedBytes: body.length,
            expectedSha256: new ResponseChecker(body).expectedSha256,
          };
        }),
        rows,
        ratios: ratioList,
        tracing,
      };
      writeFileSync(opts.json, `${JSON.stringify(report, null, 2)}\n`);
      log(`results written to ${opts.json}`);
    }
    return { rows, ratios: ratioList };
  } finally {
    killNow();
    if (opts.keepLogs) log(`logs kept in ${workDir}`);
  }
}

function log(message: string): void {
  console.error(`[bench] ${message}`);
}

async function main(): Promise<void> {
  let opts: Options;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  process.on('exit', killNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping everything`);
      killNow();
      process.exit(130);
    });
  }
  // Watchdog: per gateway, start-up + probes + (warm-up + run) per query + stop, with a generous margin.
  const budgetS =
    opts.only.length * (READY_TIMEOUT_MS / 1000 + 30 + opts.queries.length * (opts.warmup + opts.duration + 2 * REQUEST_TIMEOUT_S)) + 60;
  const watchdog = setTimeout(() => {
    log(`watchdog: still running after ${budgetS} s; stopping everything`);
    killNow();
    process.exit(1);
  }, budgetS * 1000);
  watchdog.unref();
  try {
    const { rows } = await runBenchmark(opts);
    process.exitCode = rows.some((r) => !isOurs(r.gateway) && r.status !== 'ok') ? 1 : 0;
  } catch (err) {
    log(`error: ${(err as Error).stack ?? String(err)}`);
    killNow();
    process.exitCode = 1;
  }
}

if (require.main === module) void main();
