/**
 * `npm run bench:burst`: a 15x burst of asks through the real gateway, with real Kafka and Redis,
 * and every service its own process. Prints accepted/completed/lost/duplicated answers, ask-to-
 * first-token percentiles at steady state and during the burst, the maximum Kafka lag and the time
 * to drain. Loopback only; stops by itself.
 *
 *   node ops/dist/bench/burst/run.js [--steady 20] [--burst 300] [--steady-seconds 10] [--burst-seconds 10]
 *                                    [--sessions 300] [--port-base 15000]
 */
import { randomBytes } from 'node:crypto';
import { tenantChannels, tenantKeys, type AnswerEventMessage } from '@beedesk/runtime';
import { BeedeskClient } from '@beedesk/sdk';
import Redis from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { Cluster, SERVICE_ORDER, type ServiceName } from '../../cluster';
import { demoBank } from '../../demo/data';
import { seedDemoTenants } from '../../demo/seed';
import { mintToken } from '@beedesk/gateway';
import { provideKafka, provideRedis, stopKafka } from '../../local-services';
import { cpuMs } from '../gateway/proc';
import { fmt, percentile } from './stats';

interface Options {
  steady: number;
  burst: number;
  steadySeconds: number;
  burstSeconds: number;
  sessions: number;
  portBase: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { steady: 20, burst: 300, steadySeconds: 10, burstSeconds: 10, sessions: 300, portBase: 15000 };
  const names: Record<string, keyof Options> = {
    '--steady': 'steady',
    '--burst': 'burst',
    '--steady-seconds': 'steadySeconds',
    '--burst-seconds': 'burstSeconds',
    '--sessions': 'sessions',
    '--port-base': 'portBase',
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = names[argv[i]!];
    const value = Number(argv[i + 1]);
    if (!key || !Number.isFinite(value) || value <= 0) throw new Error(`bad argument ${argv[i]} ${argv[i + 1]}`);
    options[key] = value;
  }
  return options;
}

type Phase = 'steady-1' | 'burst' | 'steady-2';
interface Asked {
  answerId: string;
  sessionIndex: number;
  phase: Phase;
  sentAt: number;
}

const TENANT = 'demo-bank';
/** Its own broker port, so a benchmark never stops the broker of a test run. */
const BENCH_KAFKA_PORT = 19192;
const JWT_SECRET = 'bench-burst-jwt-secret-0123';
const questions = demoBank().articles.flatMap((a) => a.questions.slice(0, 3));

/** When the lag first fell back to steady-state size after the burst (ms after it ended). */
function drainedAfterBurst(samples: { at: number; lag: number }[], burstEnd: number, steadyRate: number): number {
  const drained = samples.find((s) => s.at > burstEnd && s.lag <= Math.max(5, steadyRate));
  return drained ? drained.at - burstEnd : Number.NaN;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const run = `burst${randomBytes(3).toString('hex')}`;
  const redisInfo = await provideRedis();
  const kafkaInfo = await provideKafka(BENCH_KAFKA_PORT);
  const env: NodeJS.ProcessEnv = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    REDIS_URL: redisInfo.url,
    KAFKA_BROKERS: kafkaInfo.brokers,
    REDIS_KEY_PREFIX: run,
    KAFKA_TOPIC: `inference.requests.${run}`,
    KAFKA_GROUP_ID: `group-${run}`,
    JWT_SECRET,
    INTERNAL_SECRET: 'bench-burst-internal-secret-0123',
  };
  const ports = Object.fromEntries(SERVICE_ORDER.map((n, i) => [n, options.portBase + (n === 'gateway' ? 0 : i + 1)])) as Record<
    ServiceName,
    number
  >;
  const cluster = new Cluster({ env, ports });
  const redis = new Redis(redisInfo.url);
  const subscriber = new Redis(redisInfo.url);
  const kafka = new Kafka({ brokers: kafkaInfo.brokers.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  try {
    process.stderr.write(`starting the cluster (prefix ${run})…\n`);
    await cluster.startAll();
    await seedDemoTenants(cluster.urlOf('gateway'), { tenants: [demoBank()], jwtSecret: JWT_SECRET });
    await admin.connect();

    const clients = await Promise.all(
      Array.from({ length: options.sessions }, async (_, i) => {
        const client = new BeedeskClient({
          url: cluster.urlOf('gateway'),
          token: await mintToken({ tenant: TENANT, user: `burst-user-${i}`, roles: ['customer'], secret: JWT_SECRET }),
        });
        return { client, sessionId: (await client.startSession()).id };
      }),
    );
    // Warm the knowledge index so the first phase does not measure its one-off build.
    await clients[0]!.client.waitForAnswer((await clients[0]!.client.ask(clients[0]!.sessionId, 'warm up')).answer.id, {
      timeoutMs: 60_000,
    });

    // Every answer event of the tenant, timestamped on arrival (what a subscriber would see).
    const firstTokenAt = new Map<string, number>();
    const finals = new Map<string, number>();
    let lastFinalAt = 0;
    await subscriber.psubscribe(tenantChannels(run, TENANT).answers('*'));
    subscriber.on('pmessage', (_pattern, _channel, message: string) => {
      const event = JSON.parse(message) as AnswerEventMessage;
      const now = performance.now();
      if (event.kind === 'TOKEN' && !firstTokenAt.has(event.answerId)) firstTokenAt.set(event.answerId, now);
      if (event.kind === 'DONE' || event.kind === 'FALLBACK' || event.kind === 'ERROR') {
        finals.set(event.answerId, (finals.get(event.answerId) ?? 0) + 1);
        lastFinalAt = now;
      }
    });

    const asked: Asked[] = [];
    let rejected = 0;
    const inflight = new Set<Promise<void>>();
    let maxLag = 0;
    const lagSamples: { at: number; lag: number }[] = [];
    let burstEnd = Number.POSITIVE_INFINITY;
    const lagTimer = setInterval(() => {
      void (async () => {
        const [high, committed] = await Promise.all([
          admin.fetchTopicOffsets(env.KAFKA_TOPIC!),
          admin.fetchOffsets({ groupId: env.KAFKA_GROUP_ID!, topics: [env.KAFKA_TOPIC!] }),
        ]);
        const done = new Map(committed[0]?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
        const lag = high.reduce((sum, p) => sum + Math.max(0, Number(p.high) - Math.max(done.get(p.partition) ?? 0, Number(p.low))), 0);
        maxLag = Math.max(maxLag, lag);
        lagSamples.push({ at: performance.now(), lag });
      })().catch(() => undefined);
    }, 250);

    const inferencePid = cluster.processes.get('inference')!.child.pid!;
    const cpuBeforeMs = cpuMs(inferencePid);
    let next = 0;
    const phases: [Phase, number, number][] = [
      ['steady-1', options.steady, options.steadySeconds],
      ['burst', options.burst, options.burstSeconds],
      ['steady-2', options.steady, options.steadySeconds],
    ];
    for (const [phase, rate, seconds] of phases) {
      process.stderr.write(`${phase}: ${rate} asks/s for ${seconds} s\n`);
      const start = performance.now();
      let sent = 0;
      while (performance.now() - start < seconds * 1000) {
        const due = Math.floor(((performance.now() - start) / 1000) * rate);
        for (; sent < due; sent++) {
          const sessionIndex = next++ % clients.length;
          const { client, sessionId } = clients[sessionIndex]!;
          const sentAt = performance.now();
          const p = client
            .ask(sessionId, questions[(next * 7) % questions.length]!, `${run}-${next}`)
            .then((receipt) => void asked.push({ answerId: receipt.answer.id, sessionIndex, phase, sentAt }))
            .catch(() => void rejected++)
            .finally(() => inflight.delete(p));
          inflight.add(p);
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      if (phase === 'burst') burstEnd = performance.now();
    }
    await Promise.all(inflight);
    const loadEnd = performance.now();
    process.stderr.write(`load done; waiting for ${asked.length} answers to drain…\n`);
    const drainDeadline = Date.now() + 180_000;
    while (Date.now() < drainDeadline && asked.some((a) => !finals.has(a.answerId))) await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 1000)); // late duplicates would show up here
    clearInterval(lagTimer);
    const cpuAfterMs = cpuMs(inferencePid);

    // Lost and duplicated, from what is stored (not only from events).
    const keys = tenantKeys(run, TENANT);
    const stored = await redis.mget(asked.map((a) => keys.answer(a.answerId)));
    const final = stored.filter(
      (raw) => raw && ['DONE', 'FALLBACK', 'FAILED'].includes((JSON.parse(raw) as { status: string }).status),
    ).length;
    let duplicatedTurns = 0;
    const perSession = new Map<number, Set<string>>();
    for (const a of asked) perSession.set(a.sessionIndex, (perSession.get(a.sessionIndex) ?? new Set()).add(a.answerId));
    for (const [index, ids] of perSession) {
      const turns = await redis.lrange(keys.turns(clients[index]!.sessionId), 0, -1);
      const counts = new Map<string, number>();
      for (const raw of turns) {
        const turn = JSON.parse(raw) as { role: string; answerId?: string };
        if (turn.role === 'ASSISTANT' && turn.answerId && ids.has(turn.answerId))
          counts.set(turn.answerId, (counts.get(turn.answerId) ?? 0) + 1);
      }
      for (const c of counts.values()) if (c > 1) duplicatedTurns += c - 1;
    }
    const duplicatedEvents = [...finals.values()].filter((c) => c > 1).length;

    const latency = (phase: Phase) =>
      asked.filter((a) => a.phase === phase && firstTokenAt.has(a.answerId)).map((a) => firstTokenAt.get(a.answerId)! - a.sentAt);
    const rows: [string, string][] = [
      ['asks sent', String(asked.length + rejected)],
      ['asks accepted', String(asked.length)],
      ['asks refused (errors)', String(rejected)],
      ['answers completed', String(final)],
      ['lost (must be 0)', String(asked.length - final)],
      ['duplicated (must be 0)', String(duplicatedTurns + duplicatedEvents)],
      ['max Kafka lag (requests)', String(maxLag)],
      ['backlog drained, after the burst ended (s)', fmt(drainedAfterBurst(lagSamples, burstEnd, options.steady) / 1000, 1)],
      ['last answer, after the load ended (s)', fmt(Math.max(0, lastFinalAt - loadEnd) / 1000, 1)],
      ['inference CPU per answer (ms)', fmt((cpuAfterMs - cpuBeforeMs) / Math.max(1, final), 2)],
    ];
    for (const phase of ['steady-1', 'burst', 'steady-2'] as Phase[]) {
      const l = latency(phase);
      rows.push([
        `ask→first token ${phase} p50/p95/p99 (ms)`,
        `${fmt(percentile(l, 50))} / ${fmt(percentile(l, 95))} / ${fmt(percentile(l, 99))} (n=${l.length})`,
      ]);
    }
    process.stdout.write(
      `\n## Burst: ${options.steady}/s → ${options.burst}/s for ${options.burstSeconds} s → ${options.steady}/s\n\n| measure | value |\n|---|---|\n`,
    );
    for (const [name, value] of rows) process.stdout.write(`| ${name} | ${value} |\n`);
    process.exitCode = asked.length - final === 0 && duplicatedTurns + duplicatedEvents === 0 ? 0 : 1;
  } finally {
    await admin.disconnect().catch(() => undefined);
    subscriber.disconnect();
    // Remove this run's keys only.
    let cursor = '0';
    do {
      const [nextCursor, found] = await redis.scan(cursor, 'MATCH', `${run}:*`, 'COUNT', 1000);
      cursor = nextCursor;
      if (found.length) await redis.del(...found);
    } while (cursor !== '0');
    redis.disconnect();
    await cluster.stopAll();
    if (kafkaInfo.started) await stopKafka(BENCH_KAFKA_PORT);
    redisInfo.started?.kill();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:burst failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
