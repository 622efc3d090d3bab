/**
 * `npm run bench:fairness`: one noisy tenant must not starve the others (issue 16 point 5). Tenant A bursts
 * (default 300 asks/s for 10 s) while tenants B and C ask 5/s each, through the real gateway with real
 * Kafka and Redis, in five variants in the same run: the inference consumer in `fifo` mode, in `fair` mode
 * (deficit round robin between tenants), both without the gateway's front-door fair share (its bounds set
 * to 0), and `fair` with the gateway's fair share at its defaults (useTenantFairShare), with its
 * contended bound at 1 instead of 2, and without its bound under pressure (event-loop-pressure.ts: the
 * contended bound 2 however busy the machine) (`--variants` picks some). Prints B's and C's
 * ask → first token p95 before the burst (their baseline) and during it, A's drain time, how many of A's
 * asks the gateway accepted and refused (by code: refusals are answered, not lost), lost and doubled
 * answers, and the CPU time the platform's processes spent per accepted ask. Starts its own redis-server
 * and broker (loopback, its own ports), stops them, stops by itself. Also prints the CPU each process
 * (the load generators included) used during the burst, and with `--trace 1` where B's and C's asks
 * spent their time (their spans, by service and name; see span-collector.ts).
 *
 * A's burst is sent and followed by a child process: sending 300 asks/s and parsing every event of A's
 * answers in the process that times B's and C's first tokens delayed their timestamps by its own event
 * loop's lag (a cost of the load generator, not of the platform). B's and C's first tokens are timed by a
 * process that sees only their events. In `fair` mode a tenant may hold at most all but one of a worker's
 * answer slots (INFERENCE_MAX_PER_TENANT = INFERENCE_CONCURRENCY - 1), so another tenant's question never
 * waits for one of A's answers to finish, and one of them while another tenant is active
 * (INFERENCE_MAX_PER_TENANT_CONTENDED = 1), so B's question shares the worker's thread with one of A's answers.
 *
 *   node ops/dist/bench/fairness/run.js [--burst 300] [--burst-seconds 10] [--quiet 5] [--baseline-seconds 20]
 *                                       [--port-base 16670] [--trace 1] [--variants 0,1,2,3,4]
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpus, loadavg, setPriority } from 'node:os';
import { randomBytes } from 'node:crypto';
import { tenantChannels, type AnswerEventMessage } from '@beedesk/runtime';
import { BeedeskClient, BeedeskError } from '@beedesk/sdk';
import Redis from 'ioredis';
import { Cluster, SERVICE_ORDER, type ServiceName } from '../../cluster';
import { demoBank, type DemoTenant } from '../../demo/data';
import { seedDemoTenants } from '../../demo/seed';
import { mintToken } from '@beedesk/gateway';
import { provideKafka, stopKafka } from '../../local-services';
import { fmt, percentile } from '../burst/stats';
import { OtlpReceiver } from '../../otlp-receiver';
import { sampledTraceparent, spanBreakdown } from './span-collector';
import { cpuMs } from '../gateway/proc';

/** One row: the inference consumer's scheduling, and the gateway's front-door fair share on or off. */
interface Variant {
  consumer: 'fifo' | 'fair';
  /** The gateway's fair share: off (bounds 0), at its defaults, or its contended bound at 1. */
  frontDoor: 'off' | 'defaults' | 'tight' | 'unpressured';
}
const VARIANTS: Variant[] = [
  { consumer: 'fifo', frontDoor: 'off' },
  { consumer: 'fair', frontDoor: 'off' },
  { consumer: 'fair', frontDoor: 'defaults' },
  { consumer: 'fair', frontDoor: 'tight' },
  { consumer: 'fair', frontDoor: 'unpressured' },
];
const FRONT_DOOR_NAMES: Record<Variant['frontDoor'], string> = {
  off: 'front door off',
  defaults: 'front-door fair share',
  tight: 'front-door fair share, contended bound 1',
  unpressured: 'front-door fair share, no bound under pressure',
};
const FRONT_DOOR_ENV: Record<Variant['frontDoor'], NodeJS.ProcessEnv> = {
  off: {
    GATEWAY_MAX_CONCURRENT_OPERATIONS: '0',
    GATEWAY_MAX_CONCURRENT_PER_TENANT: '0',
    GATEWAY_MAX_CONCURRENT_PER_TENANT_CONTENDED: '0',
    GATEWAY_MAX_CONCURRENT_PER_TENANT_UNDER_PRESSURE: '0',
  },
  defaults: {},
  tight: { GATEWAY_MAX_CONCURRENT_PER_TENANT_CONTENDED: '1' },
  // The fair share as it was before the bound under pressure (event-loop-pressure.ts): contended bound 2 always.
  unpressured: { GATEWAY_MAX_CONCURRENT_PER_TENANT_UNDER_PRESSURE: '0' },
};
const variantName = (v: Variant) => `${v.consumer} consumer, ${FRONT_DOOR_NAMES[v.frontDoor]}`;

interface Options {
  burst: number;
  burstSeconds: number;
  quiet: number;
  baselineSeconds: number;
  portBase: number;
  /** 1: trace B's and C's asks and print where their time went (tracing costs the services some CPU). */
  trace: number;
  /** Which rows of VARIANTS to run (indexes; all by default). */
  variants: number[];
  /**
   * The niceness of A's load generator (0-19). It stands in for A's clients, which run on their own
   * machines, not on the platform's 2 cores: at 10 it yields the CPU to the platform and to B's and C's
   * generator (whose clocks measure the latency), and still sends at its rate (A's sent is printed).
   */
  generatorNice: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = {
    burst: 300,
    burstSeconds: 10,
    quiet: 5,
    // B's and C's p95 alone over as many asks as during A's burst (100 each): over 25, one slow ask moved it by half.
    baselineSeconds: 20,
    portBase: 16670,
    trace: 0,
    variants: VARIANTS.map((_, i) => i),
    generatorNice: 10,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]!.replace(/^--/, '').replace(/-(\w)/g, (_, c: string) => c.toUpperCase()) as keyof Options;
    const raw = argv[i + 1] ?? '';
    if (key === 'variants') {
      options.variants = raw.split(',').map(Number);
      if (options.variants.some((v) => !Number.isInteger(v) || !VARIANTS[v])) throw new Error(`bad argument ${argv[i]} ${raw}`);
      continue;
    }
    const value = Number(raw);
    if (!(key in options) || !Number.isFinite(value) || value < 0) throw new Error(`bad argument ${argv[i]} ${raw}`);
    options[key] = value;
  }
  options.generatorNice = Math.min(19, options.generatorNice); // the weakest priority there is
  return options;
}

const JWT_SECRET = 'bench-fairness-jwt-secret-0123';
const NOISY = 'fair-a';
const QUIET = ['fair-b', 'fair-c'];
/** A small knowledge base (12 articles, 8 questions each) per tenant: the model is not what is measured. */
function smallBank(id: string): DemoTenant {
  const bank = demoBank();
  return { id, name: id, articles: bank.articles.slice(0, 12).map((a) => ({ ...a, questions: a.questions.slice(0, 8) })) };
}
const questions = smallBank('x').articles.flatMap((a) => a.questions.slice(0, 2));

interface Asked {
  tenant: string;
  answerId: string;
  sentAt: number;
  /** When the ask's receipt came back: how much of the wait is the ask path (gateway, answer service, Kafka produce). */
  acceptedAt: number;
  phase: 'baseline' | 'burst' | 'after';
}

interface ModeResult {
  variant: Variant;
  p95: Record<string, { baseline: number; burst: number }>;
  /** The quiet tenants' ask → receipt p95 during the burst. */
  receiptP95: number;
  noisyDrainMs: number;
  /** Load average (1 min) when the burst ended. */
  load: number;
  sent: number;
  accepted: number;
  /** A's asks sent, accepted (a receipt) and refused by the gateway, by code. */
  noisy: { sent: number; accepted: number; refused: Record<string, number> };
  /** B's and C's asks that got no receipt. */
  quietRefused: number;
  lost: number;
  doubled: number;
  /** CPU used during the burst, in cores (CPU seconds per second), by process; the load generators' too. */
  burstCores: Record<string, number>;
  /** Where B's and C's asks spent their time: their traced spans, before and during the burst. */
  spans: { baseline: ReturnType<typeof spanBreakdown>; burst: ReturnType<typeof spanBreakdown> };
  /** CPU time (user + system) of the platform's processes from the baseline to A drained, per accepted ask; the gateway's alone. */
  cpuMsPerAsk: { platform: number; gateway: number };
}

/** CPU time (user + system, ms) a process has used; NaN for a process we have no pid of. */
const cpuOf = (pid: number | undefined): number => (pid === undefined ? Number.NaN : cpuMs(pid));

/** The pid of the process listening on a loopback TCP port (`ss`, iproute2), if any. */
function pidListeningOn(port: number): number | undefined {
  const out = spawnSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' }).stdout ?? '';
  const match = /pid=(\d+)/.exec(out);
  return match ? Number(match[1]) : undefined;
}

async function startRedis(port: number): Promise<{ url: string; pid: number | undefined; stop(): void }> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50; i++) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    const up = await probe
      .connect()
      .then(() => true)
      .catch(() => false);
    probe.disconnect();
    if (up) return { url, pid: child.pid, stop: () => child.kill() };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error(`redis-server did not start on ${port}`);
}

/** What the parent tells the burst process, and what it answers. */
interface NoisyConfig {
  gatewayUrl: string;
  redisUrl: string;
  run: string;
  sessions: number;
}
type NoisyReport =
  { ready: true } | { sent: number; accepted: number; refused: Record<string, number>; lost: number; doubled: number; lastFinalAt: number };

/** Sessions of `tenant`, each with its own client (one user each). */
async function sessionsOf(gatewayUrl: string, tenant: string, count: number, traced = false) {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const client = new BeedeskClient({
        url: gatewayUrl,
        token: await mintToken({ tenant, user: `u${i}`, roles: ['customer'], secret: JWT_SECRET }),
        // The quiet tenants' requests are traced (see span-collector.ts); A's are not.
        ...(traced ? { headers: { traceparent: sampledTraceparent() } } : {}),
      });
      return { client, sessionId: (await client.startSession()).id };
    }),
  );
}

/** Follows the final events of `tenants`' answers: how many finals per answer id, and when the last came. */
async function followFinals(redisUrl: string, run: string, tenants: string[], firstTokenAt?: Map<string, number>) {
  const subscriber = new Redis(redisUrl);
  const finals = new Map<string, number>();
  const finalAt = new Map<string, number>();
  for (const tenant of tenants) await subscriber.psubscribe(tenantChannels(run, tenant).answers('*'));
  subscriber.on('pmessage', (_pattern, _channel, message: string) => {
    const event = JSON.parse(message) as AnswerEventMessage;
    const now = performance.now();
    if (event.kind === 'TOKEN' && firstTokenAt && !firstTokenAt.has(event.answerId)) firstTokenAt.set(event.answerId, now);
    if (event.kind === 'DONE' || event.kind === 'FALLBACK' || event.kind === 'ERROR') {
      finals.set(event.answerId, (finals.get(event.answerId) ?? 0) + 1);
      finalAt.set(event.answerId, now);
    }
  });
  return { finals, finalAt, stop: () => subscriber.disconnect() };
}

/** The burst process: A's sessions, then on `go` its asks at `rate`/s for `seconds`, then its figures. */
async function noisyProcess(config: NoisyConfig): Promise<void> {
  const send = (report: NoisyReport) => new Promise<void>((resolve) => process.send!(report, () => resolve()));
  const sessions = await sessionsOf(config.gatewayUrl, NOISY, config.sessions);
  const followed = await followFinals(config.redisUrl, config.run, [NOISY]);
  const go = new Promise<{ rate: number; seconds: number }>((resolve) => process.once('message', (m) => resolve(m as never)));
  await send({ ready: true });
  const { rate, seconds } = await go;
  const accepted: string[] = [];
  const refused: Record<string, number> = {};
  const inflight: Promise<void>[] = [];
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < seconds * 1000) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    for (; sent < due; sent++) {
      const { client, sessionId } = sessions[sent % sessions.length]!;
      inflight.push(
        client
          .ask(sessionId, questions[(sent * 7) % questions.length]!, `${config.run}-${NOISY}-${sent}`)
          .then((receipt) => void accepted.push(receipt.answer.id))
          .catch((error: unknown) => {
            const code = error instanceof BeedeskError ? error.code : 'NETWORK_ERROR';
            refused[code] = (refused[code] ?? 0) + 1;
          }),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await Promise.all(inflight);
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline && accepted.some((id) => !followed.finals.has(id))) await new Promise((r) => setTimeout(r, 200));
  await new Promise((r) => setTimeout(r, 1000)); // late duplicates would show up here
  followed.stop();
  const lastFinal = Math.max(...accepted.map((id) => followed.finalAt.get(id) ?? Number.NaN));
  await send({
    sent,
    accepted: accepted.length,
    refused,
    lost: accepted.filter((id) => !followed.finals.has(id)).length,
    doubled: [...followed.finals.values()].filter((c) => c > 1).length,
    // performance.now() is per process: as wall-clock time for the parent.
    lastFinalAt: Date.now() - (performance.now() - lastFinal),
  });
}

function nextReport(child: ChildProcess): Promise<NoisyReport> {
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m as NoisyReport));
    child.once('exit', (code) => reject(new Error(`the burst process exited (${code})`)));
  });
}

/** The platform's shared stores, for the CPU figures. */
interface Stores {
  redisUrl: string;
  brokers: string;
  pids: { name: string; pid: number | undefined }[];
}

async function runMode(
  variant: Variant,
  options: Options,
  stores: Stores,
  collector: { receiver: OtlpReceiver; url: string } | null,
): Promise<ModeResult> {
  const { redisUrl, brokers } = stores;
  const mode = variant.consumer;
  const run = `fair${mode}${variant.frontDoor === 'off' ? '' : 'fd'}${randomBytes(2).toString('hex')}`;
  const env: NodeJS.ProcessEnv = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    REDIS_URL: redisUrl,
    KAFKA_BROKERS: brokers,
    REDIS_KEY_PREFIX: run,
    KAFKA_TOPIC: `inference.requests.${run}`,
    KAFKA_GROUP_ID: `group-${run}`,
    JWT_SECRET,
    INTERNAL_SECRET: 'bench-fairness-internal-secret-0123',
    ...(collector ? { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_TRACES_SAMPLER_ARG: '0' } : {}),
    GATEWAY_RATE_LIMIT_TENANT: '0',
    GATEWAY_RATE_LIMIT_USER: '0',
    BEEDESK_EMBEDDINGS: 'off',
    INFERENCE_SCHEDULING: mode,
    // One answer slot of the worker's four is always open to other tenants (see the header), and while
    // another tenant is active a tenant answers one question at a time on a worker: the built-in engine's
    // answers share the worker's thread, so each one running beside B's question slows it.
    // Read ahead far enough to hold all of A's burst: a full buffer stops the fetch, and B's questions
    // behind A's on the same partitions wait in Kafka (requests are ~1 KB: 20,000 is ~20 MB).
    ...(mode === 'fair'
      ? {
          INFERENCE_CONCURRENCY: '4',
          INFERENCE_MAX_PER_TENANT: '3',
          INFERENCE_MAX_PER_TENANT_CONTENDED: '1',
          INFERENCE_MAX_BUFFERED: '20000',
        }
      : {}),
    // Off: no execution slots at the gateway. Defaults: gateway/README.md, "Fair share". Tight: the
    // contended bound at 1 instead of 2 (B's and C's latency against A's throughput, in the same run).
    ...FRONT_DOOR_ENV[variant.frontDoor],
  };
  const ports = Object.fromEntries(SERVICE_ORDER.map((n, i) => [n, options.portBase + (n === 'gateway' ? 0 : i + 1)])) as Record<
    ServiceName,
    number
  >;
  const cluster = new Cluster({ env, ports });
  let noisy: ChildProcess | null = null;
  let followed: Awaited<ReturnType<typeof followFinals>> | null = null;
  try {
    process.stderr.write(`${variantName(variant)}: starting the platform (prefix ${run})…\n`);
    await cluster.startAll();
    const tenants = [NOISY, ...QUIET];
    await seedDemoTenants(cluster.urlOf('gateway'), { tenants: tenants.map(smallBank), jwtSecret: JWT_SECRET });
    const sessions = new Map<string, { client: BeedeskClient; sessionId: string }[]>();
    for (const tenant of tenants) {
      sessions.set(
        tenant,
        await sessionsOf(cluster.urlOf('gateway'), tenant, tenant === NOISY ? 1 : 20, collector !== null && tenant !== NOISY),
      );
      const [first] = sessions.get(tenant)!;
      await first!.client.waitForAnswer((await first!.client.ask(first!.sessionId, 'warm up')).answer.id, { timeoutMs: 60_000 });
    }
    const config: NoisyConfig = { gatewayUrl: cluster.urlOf('gateway'), redisUrl, run, sessions: 300 };
    noisy = fork(__filename, ['--noisy'], { env: { ...process.env, BENCH_FAIRNESS_NOISY: JSON.stringify(config) }, stdio: 'inherit' });
    if (options.generatorNice > 0) setPriority(noisy.pid!, options.generatorNice);
    const noisyReady = await nextReport(noisy);
    if (!('ready' in noisyReady)) throw new Error('the burst process did not get ready');

    const firstTokenAt = new Map<string, number>();
    followed = await followFinals(redisUrl, run, QUIET, firstTokenAt);
    const { finals } = followed;

    const asked: Asked[] = [];
    let sent = 0;
    let quietRefused = 0;
    const inflight = new Set<Promise<void>>();
    const counters = new Map<string, number>();
    const askOnce = (tenant: string, phase: Asked['phase']) => {
      const list = sessions.get(tenant)!;
      const n = counters.get(tenant) ?? 0;
      counters.set(tenant, n + 1);
      const { client, sessionId } = list[n % list.length]!;
      const sentAt = performance.now();
      sent++;
      const p = client
        .ask(sessionId, questions[(n * 7) % questions.length]!, `${run}-${tenant}-${n}`)
        .then((receipt) => void asked.push({ tenant, answerId: receipt.answer.id, sentAt, acceptedAt: performance.now(), phase }))
        // Counted: a refused question of B or C would otherwise drop out of their percentiles unseen.
        .catch(() => void quietRefused++)
        .finally(() => inflight.delete(p));
      inflight.add(p);
    };
    /** Sends at `rates` (per tenant, asks/s) for `seconds`. */
    const phase = async (name: Asked['phase'], rates: Record<string, number>, seconds: number) => {
      const start = performance.now();
      const done = new Map<string, number>();
      while (performance.now() - start < seconds * 1000) {
        const elapsed = (performance.now() - start) / 1000;
        for (const [tenant, rate] of Object.entries(rates)) {
          const due = Math.floor(elapsed * rate);
          for (let k = done.get(tenant) ?? 0; k < due; k++) askOnce(tenant, name);
          done.set(tenant, due);
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    const quietRates = Object.fromEntries(QUIET.map((t) => [t, options.quiet]));
    const pids = [...cluster.processes.values()].map((p) => ({ name: p.name, pid: p.child.pid }));
    const cpuNow = () => pids.map(({ name, pid }) => ({ name, ms: cpuOf(pid) }));
    const cpuBefore = cpuNow();
    const baselineStart = Date.now();
    await phase('baseline', quietRates, options.baselineSeconds);
    const noisyResult = nextReport(noisy);
    noisy.send({ rate: options.burst, seconds: options.burstSeconds });
    const burstStart = Date.now();
    const everyPid = [
      ...pids,
      ...stores.pids,
      { name: 'load generator (A)', pid: noisy.pid },
      { name: 'load generator (B, C)', pid: process.pid },
    ];
    const cpuAtBurstStart = everyPid.map(({ pid }) => cpuOf(pid));
    await phase('burst', quietRates, options.burstSeconds);
    const burstEnd = Date.now();
    const burstCores = Object.fromEntries(
      everyPid.map(({ name, pid }, i) => [name, (cpuOf(pid) - cpuAtBurstStart[i]!) / (burstEnd - burstStart)] as const),
    );
    const load = loadavg()[0]!;
    await phase('after', quietRates, 3);
    await Promise.all(inflight);
    const noisyReport = await noisyResult;
    if ('ready' in noisyReport) throw new Error('the burst process reported out of turn');
    const deadline = Date.now() + 180_000;
    while (Date.now() < deadline && asked.some((a) => !finals.has(a.answerId))) await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 1000)); // late duplicates would show up here
    const cpuSpent = cpuNow().map(({ name, ms }, i) => ({ name, ms: ms - cpuBefore[i]!.ms }));
    const acceptedAsks = asked.length + noisyReport.accepted;

    if (collector) await new Promise((r) => setTimeout(r, 1500)); // the services export spans every second
    const traced = collector?.receiver.spans ?? [];
    const spans = { baseline: spanBreakdown(traced, baselineStart, burstStart), burst: spanBreakdown(traced, burstStart, burstEnd) };
    const p95Of = (tenant: string, which: Asked['phase']) =>
      percentile(
        asked
          .filter((a) => a.tenant === tenant && a.phase === which && firstTokenAt.has(a.answerId))
          .map((a) => firstTokenAt.get(a.answerId)! - a.sentAt),
        95,
      );
    return {
      variant,
      p95: Object.fromEntries(QUIET.map((t) => [t, { baseline: p95Of(t, 'baseline'), burst: p95Of(t, 'burst') }])),
      receiptP95: percentile(
        asked.filter((a) => a.phase === 'burst').map((a) => a.acceptedAt - a.sentAt),
        95,
      ),
      noisyDrainMs: noisyReport.lastFinalAt - burstEnd,
      spans,
      burstCores,
      load,
      sent: sent + noisyReport.sent,
      accepted: acceptedAsks,
      noisy: { sent: noisyReport.sent, accepted: noisyReport.accepted, refused: noisyReport.refused },
      quietRefused,
      cpuMsPerAsk: {
        platform: cpuSpent.reduce((sum, p) => sum + p.ms, 0) / acceptedAsks,
        gateway: cpuSpent.filter((p) => p.name === 'gateway').reduce((sum, p) => sum + p.ms, 0) / acceptedAsks,
      },
      lost: asked.filter((a) => !finals.has(a.answerId)).length + noisyReport.lost,
      doubled: [...finals.values()].filter((c) => c > 1).length + noisyReport.doubled,
    };
  } finally {
    followed?.stop();
    if (noisy && noisy.exitCode === null) noisy.kill();
    await cluster.stopAll();
  }
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const kafkaPort = options.portBase + 10;
  const redis = await startRedis(options.portBase + 12);
  const kafka = await provideKafka(kafkaPort);
  const receiver = options.trace ? new OtlpReceiver() : null;
  const collector = receiver ? { receiver, url: await receiver.start(options.portBase + 13) } : null;
  const stores: Stores = {
    redisUrl: redis.url,
    brokers: kafka.brokers,
    pids: [
      { name: 'redis', pid: redis.pid },
      { name: 'kafka', pid: pidListeningOn(kafkaPort) },
    ],
  };
  try {
    const results: ModeResult[] = [];
    for (const [i, variant] of VARIANTS.entries())
      if (options.variants.includes(i)) results.push(await runMode(variant, options, stores, collector));
    const refusedOf = (r: ModeResult) =>
      Object.entries(r.noisy.refused)
        .map(([code, n]) => `${n} ${code}`)
        .join(', ') || '0';
    process.stdout.write(
      `\n## Fairness: ${NOISY} bursts to ${options.burst} asks/s for ${options.burstSeconds} s; ${QUIET.join(', ')} ask ${options.quiet}/s each\n\n` +
        `${NOISY}'s load generator runs at nice ${options.generatorNice} (--generator-nice; it stands in for clients on other machines).\n\n` +
        `| variant | ${QUIET.map((t) => `${t} first token p95 alone / in A's burst (ms)`).join(' | ')} | B and C ask → receipt p95 in A's burst (ms) | A drained after the burst (s) | A's asks sent / accepted / refused | B's and C's asks refused | lost | doubled | CPU ms per accepted ask (platform / gateway) | load average (1 min) at the burst's end |\n` +
        `|---|${QUIET.map(() => '--:|').join('')}--:|--:|--:|--:|--:|--:|--:|--:|\n`,
    );
    for (const r of results) {
      process.stdout.write(
        `| ${variantName(r.variant)} | ${QUIET.map((t) => `${fmt(r.p95[t]!.baseline)} / ${fmt(r.p95[t]!.burst)} (${fmt(r.p95[t]!.burst / r.p95[t]!.baseline, 1)}x)`).join(' | ')} | ${fmt(r.receiptP95)} | ${fmt(r.noisyDrainMs / 1000, 1)} | ${r.noisy.sent} / ${r.noisy.accepted} / ${refusedOf(r)} | ${r.quietRefused} | ${r.lost} | ${r.doubled} | ${fmt(r.cpuMsPerAsk.platform, 1)} / ${fmt(r.cpuMsPerAsk.gateway, 1)} | ${fmt(r.load, 1)} |\n`,
      );
    }
    process.stdout.write(
      `\n### CPU during A's burst, in cores (this machine has ${cpus().length})\n\n| variant | ${Object.keys(results[0]?.burstCores ?? {}).join(' | ')} |\n|---|${Object.keys(
        results[0]?.burstCores ?? {},
      )
        .map(() => '--:|')
        .join('')}\n`,
    );
    for (const r of results)
      process.stdout.write(
        `| ${variantName(r.variant)} | ${Object.values(r.burstCores)
          .map((c) => fmt(c, 2))
          .join(' | ')} |\n`,
      );
    for (const r of results.filter(() => collector)) {
      process.stdout.write(
        `\n### Where ${QUIET.join(' and ')}'s asks spent their time, ${variantName(r.variant)} (traced spans, slowest p95 in the burst first)\n\n` +
          `| span | alone: count, p50 / p95 (ms) | in A's burst: count, p50 / p95 (ms) |\n|---|--:|--:|\n`,
      );
      for (const s of r.spans.burst.slice(0, 12)) {
        const alone = r.spans.baseline.find((b) => b.span === s.span);
        process.stdout.write(
          `| ${s.span} | ${alone ? `${alone.count}, ${fmt(alone.p50, 1)} / ${fmt(alone.p95, 1)}` : '–'} | ${s.count}, ${fmt(s.p50, 1)} / ${fmt(s.p95, 1)} |\n`,
        );
      }
    }
    process.exitCode = results.every((r) => r.lost === 0 && r.doubled === 0) ? 0 : 1;
  } finally {
    await receiver?.stop();
    if (kafka.started) await stopKafka(kafkaPort);
    redis.stop();
  }
}

const noisyConfig = process.env.BENCH_FAIRNESS_NOISY;
(noisyConfig ? noisyProcess(JSON.parse(noisyConfig) as NoisyConfig).then(() => process.exit(0)) : main()).catch((error: unknown) => {
  process.stderr.write(`bench:fairness failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
