/**
 * Subscription benchmark (`npm run bench:subscriptions`): N subscribers on one session through a
 * gateway, E answer events published to Redis at R events/s; reports deliveries per second,
 * publish-to-client latency percentiles and the gateway process's CPU time per delivered event
 * (/proc/<pid>/stat), for the beedesk gateway (graphql-ws and SSE) and Hive Gateway (SSE, its
 * subgraph subscriptions over its default HTTP/SSE transport), same supergraph, same subgraphs.
 *
 *   node ops/dist/bench/subscriptions/run.js [--subscribers 100,1000] [--events 40] [--rate 20]
 *        [--only ours-ws,ours-sse,hive-sse] [--base-port 4900]
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Redis from 'ioredis';
import WebSocket from 'ws';
import { CONTEXT_HEADER, createLogger, createRedisEventBus, signContext } from '@beedesk/runtime';
import { readSupergraph } from '@beedesk/schema';
import { BeedeskClient, type SubscriptionProtocol } from '@beedesk/sdk';
import { mintToken } from '@beedesk/gateway';
import { repoRoot } from '../../cluster';
import { argValue, cpuMs, HOST, rssKb } from '../gateway/proc';

const VARIANTS = ['ours-ws', 'ours-sse', 'hive-sse'] as const;
type Variant = (typeof VARIANTS)[number];
const SECRET = 'bench-subscriptions-internal-secret';
const JWT_SECRET = 'bench-subscriptions-jwt-secret';
const TENANT = 'bench-subs';
const USER = 'bench-user';
const QUERY = 'subscription Bench($s: ID!) { answerStream(sessionId: $s) { answerId seq kind delta } }';

interface Row {
  variant: Variant;
  subscribers: number;
  delivered: number;
  expected: number;
  eventsPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  cpuUsPerEvent: number;
  rssMb: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function openUpstream(answerPort: number): Promise<number> {
  const text = await (await fetch(`http://${HOST}:${answerPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('beedesk_open_subscriptions'));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

function startGateway(
  variant: Variant,
  port: number,
  supergraphFile: string,
  workDir: string,
  subgraphPort: (n: number) => number,
): ChildProcess {
  if (variant.startsWith('ours')) {
    return spawn(process.execPath, [join(repoRoot, 'gateway', 'dist', 'main.js'), '--port', String(port)], {
      env: {
        ...process.env,
        NODE_ENV: 'development',
        LOG_LEVEL: 'warn',
        // Every subscriber is one user here: the per-user caps would refuse all but the first few.
        GATEWAY_MAX_SOCKETS_PER_USER: '0',
        GATEWAY_MAX_SUBSCRIPTIONS_PER_USER: '0',
        GATEWAY_RATE_LIMIT_USER: '0',
        JWT_SECRET,
        INTERNAL_SECRET: SECRET,
        SUBGRAPH_URL_TENANT: `http://${HOST}:${subgraphPort(1)}/graphql`,
        SUBGRAPH_URL_SESSION: `http://${HOST}:${subgraphPort(2)}/graphql`,
        SUBGRAPH_URL_ANSWER: `http://${HOST}:${subgraphPort(3)}/graphql`,
        SUBGRAPH_URL_INFERENCE: `http://${HOST}:${subgraphPort(4)}/graphql`,
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  }
  // Hive forwards the pre-signed tenant context (beedesk's JWT step has no Hive counterpart here).
  const config = join(workDir, 'hive.config.cjs');
  writeFileSync(
    config,
    `module.exports.gatewayConfig = {
  propagateHeaders: { fromClientToSubgraphs: ({ request }) => ({ '${CONTEXT_HEADER}': request.headers.get('${CONTEXT_HEADER}') }) },
};
`,
  );
  const bin = join(dirname(require.resolve('@graphql-hive/gateway')), 'bin.cjs');
  return spawn(process.execPath, [bin, 'supergraph', supergraphFile, '--config-path', config, '--host', HOST, '--port', String(port)], {
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function runOne(
  variant: Variant,
  subscribers: number,
  options: {
    events: number;
    rate: number;
    gatewayPort: number;
    answerPort: number;
    gatewayPid: number;
    sessionId: string;
    bus: ReturnType<typeof createRedisEventBus>;
  },
): Promise<Row> {
  const url = `http://${HOST}:${options.gatewayPort}/graphql`;
  const protocol: SubscriptionProtocol = variant.endsWith('ws') ? 'graphql-ws' : 'sse';
  const token = await mintToken({ tenant: TENANT, user: USER, roles: ['customer'], secret: JWT_SECRET, ttlSeconds: 3600 });
  const headers: Record<string, string> = variant.startsWith('hive')
    ? { [CONTEXT_HEADER]: signContext({ tenantId: TENANT, userId: USER, roles: ['customer'], requestId: 'bench' }, SECRET) }
    : {};
  const published = new Map<number, number>();
  const latencies: number[] = [];
  let lastReceived = 0;
  const clients: BeedeskClient[] = [];
  const loops: Promise<void>[] = [];
  const baseline = await openUpstream(options.answerPort);
  for (let i = 0; i < subscribers; i++) {
    const client = new BeedeskClient({ url, token: variant.startsWith('ours') ? token : undefined, headers, webSocketImpl: WebSocket });
    clients.push(client);
    const stream = client.subscribe<{ answerStream: { seq: number } }, { s: string }>(
      { document: QUERY },
      { s: options.sessionId },
      { protocol },
    );
    loops.push(
      (async () => {
        let got = 0;
        for await (const data of stream) {
          const sent = published.get(data.answerStream.seq);
          if (sent !== undefined) latencies.push((lastReceived = performance.now()) - sent);
          if (++got >= options.events) break;
        }
      })().catch(() => undefined),
    );
    if (i % 100 === 99)
      await waitFor(async () => (await openUpstream(options.answerPort)) >= baseline + i + 1, 60_000, `${i + 1} subscriptions`);
  }
  await waitFor(async () => (await openUpstream(options.answerPort)) >= baseline + subscribers, 60_000, `${subscribers} subscriptions`);
  const rss = rssKb(options.gatewayPid);
  const cpuBefore = cpuMs(options.gatewayPid);
  const start = performance.now();
  for (let seq = 1; seq <= options.events; seq++) {
    published.set(seq, performance.now());
    await options.bus.publishAnswerEvent(TENANT, {
      answerId: 'bench',
      sessionId: options.sessionId,
      seq,
      kind: 'TOKEN',
      delta: 'x',
      queuePosition: null,
    });
    await sleep(Math.max(0, start + (seq * 1000) / options.rate - performance.now()));
  }
  const expected = subscribers * options.events;
  await waitFor(async () => latencies.length >= expected, 30_000, 'deliveries').catch(() => undefined);
  const cpu = cpuMs(options.gatewayPid) - cpuBefore;
  await Promise.all(clients.map((c) => c.close()));
  await Promise.race([Promise.all(loops), sleep(5000)]);
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    variant,
    subscribers,
    delivered: latencies.length,
    expected,
    eventsPerSecond: latencies.length / ((lastReceived - start) / 1000),
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    cpuUsPerEvent: (cpu * 1000) / Math.max(1, latencies.length),
    rssMb: rss / 1024,
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const subscriberCounts = (argValue(argv, '--subscribers') ?? '100,1000').split(',').map(Number);
  const events = Number(argValue(argv, '--events') ?? 40);
  const rate = Number(argValue(argv, '--rate') ?? 20);
  const only = (argValue(argv, '--only') ?? VARIANTS.join(',')).split(',') as Variant[];
  const basePort = Number(argValue(argv, '--base-port') ?? 4900);
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const keyPrefix = `bench-subs-${process.pid}`;
  const workDir = mkdtempSync(join(tmpdir(), 'bench-subs-'));
  const subgraphPort = (n: number) => basePort + n;
  const children: ChildProcess[] = [];
  const cleanup = () => {
    for (const child of children) child.kill('SIGTERM');
    rmSync(workDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => (cleanup(), process.exit(130)));

  const subgraphs = fork(join(__dirname, 'subgraphs.js'), [redisUrl, keyPrefix, SECRET, String(basePort)], { stdio: 'inherit' });
  children.push(subgraphs);
  await new Promise<void>((ok, fail) => {
    subgraphs.once('message', () => ok());
    subgraphs.once('exit', (code) => fail(new Error(`subgraphs exited with ${code}`)));
  });
  const supergraphFile = join(workDir, 'supergraph.graphql');
  let sdl = readSupergraph();
  // The supergraph's join__graph URLs are the default ports 4001–4004 (tenant, session, answer, inference).
  for (const n of [1, 2, 3, 4]) sdl = sdl.replace(`http://127.0.0.1:${4000 + n}/graphql`, `http://${HOST}:${subgraphPort(n)}/graphql`);
  writeFileSync(supergraphFile, sdl);

  // One session; every subscriber follows it, so each published event fans out to all of them.
  const started = await fetch(`http://${HOST}:${subgraphPort(2)}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      [CONTEXT_HEADER]: signContext({ tenantId: TENANT, userId: USER, roles: ['customer'], requestId: 'bench' }, SECRET),
    },
    body: JSON.stringify({ query: 'mutation { startSession { id } }' }),
  });
  const sessionId = ((await started.json()) as { data: { startSession: { id: string } } }).data.startSession.id;
  const redis = new Redis(redisUrl);
  const bus = createRedisEventBus(redis, keyPrefix, createLogger('bench', 'warn'));

  const rows: Row[] = [];
  try {
    for (const variant of only) {
      const port = basePort + 10;
      const gateway = startGateway(variant, port, supergraphFile, workDir, subgraphPort);
      children.push(gateway);
      const health = variant.startsWith('ours') ? `http://${HOST}:${port}/health` : `http://${HOST}:${port}/healthcheck`;
      await waitFor(async () => (await fetch(health)).status === 200, 30_000, `${variant} to start`);
      for (const subscribers of subscriberCounts) {
        process.stderr.write(`${variant}: ${subscribers} subscribers, ${events} events at ${rate}/s…\n`);
        rows.push(
          await runOne(variant, subscribers, {
            events,
            rate,
            gatewayPort: port,
            answerPort: subgraphPort(3),
            gatewayPid: gateway.pid!,
            sessionId,
            bus,
          }),
        );
        await waitFor(async () => (await openUpstream(subgraphPort(3))) === 0, 20_000, 'upstream subscriptions to end').catch(
          () => undefined,
        );
      }
      gateway.kill('SIGTERM');
      await new Promise((r) => gateway.once('exit', r));
    }
  } finally {
    await bus.close();
    redis.disconnect();
    cleanup();
  }

  const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '–');
  const lines = [
    `subscriptions benchmark: ${events} events at ${rate}/s per run, one session, Node ${process.version}`,
    '| gateway | subscribers | delivered | events/s delivered | p50 ms | p95 ms | p99 ms | gateway CPU µs/event | gateway RSS MB (open) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.variant} | ${r.subscribers} | ${r.delivered}/${r.expected} | ${fmt(r.eventsPerSecond, 0)} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.p99)} | ${fmt(r.cpuUsPerEvent, 0)} | ${fmt(r.rssMb, 0)} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  process.exit(0);
}

void main().catch((error: unknown) => {
  process.stderr.write(`bench:subscriptions failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
