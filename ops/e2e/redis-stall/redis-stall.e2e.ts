import type { ChildProcess } from 'node:child_process';
import { SERVICE_ORDER, type ServiceName } from '../../src/cluster';
import { seedDemoTenants } from '../../src/demo/seed';
import { demoBank } from '../../src/demo/data';
import { e2eEnvironment, e2ePort, E2E_JWT_SECRET } from '../harness/cluster';
import { codeOf } from '../harness/error-code';
import { startOwnRedis } from '../harness/own-redis';

// A Redis that stops answering without closing its connections — a hung process, or a node cut off
// from the network with no reset — must not hang the platform's requests: each is answered
// SERVICE_UNAVAILABLE within the Redis command timeout, and the platform serves again once Redis does.
// SIGSTOP stands in for both: the kernel keeps the connections open and accepts what is sent.
const e2e = e2eEnvironment('redis-stall', 16700);
// A Redis of this scenario's own, so it can be stopped without touching the shared one.
const redisPort = e2ePort(16720);
const redisUrl = `redis://127.0.0.1:${redisPort}`;
let redis: ChildProcess | null = null;
const COMMAND_TIMEOUT_MS = 1500;
const STALLED_QUESTION = 'And how long does delivery take?';
const STALLED_MESSAGE_ID = 'stalled-question-1';

/** The code the call was refused with and how long it took, or 'HUNG' past `limitMs`. */
async function timedCode(call: () => Promise<unknown>, limitMs: number): Promise<{ code: string; ms: number }> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('HUNG'), limitMs)));
  try {
    const code = await Promise.race([codeOf(call()), hung]);
    return { code, ms: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

beforeAll(async () => {
  redis = await startOwnRedis(redisPort);
  const env = { REDIS_URL: redisUrl, REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS) };
  const subgraphs = SERVICE_ORDER.filter((name): name is Exclude<ServiceName, 'gateway'> => name !== 'gateway');
  await Promise.all(subgraphs.map((name) => e2e.cluster.start(name, env)));
  await e2e.cluster.start('gateway', env);
  await seedDemoTenants(e2e.gatewayUrl, { tenants: [demoBank()], jwtSecret: E2E_JWT_SECRET });
}, 120_000);

afterAll(async () => {
  if (redis?.pid && redis.exitCode === null) process.kill(redis.pid, 'SIGCONT');
  await e2e.cluster.stopAll();
  if (redis && redis.exitCode === null) {
    const exited = new Promise((resolve) => redis!.once('exit', resolve));
    redis.kill('SIGKILL');
    await exited;
  }
});

describe('a Redis that stops answering', () => {
  it('refuses asks and session reads with SERVICE_UNAVAILABLE within seconds, then serves again, a retried ask once', async () => {
    const alice = e2e.client(await e2e.token('demo-bank', 'alice', 'customer'));
    const session = await alice.startSession();
    const before = await alice.ask(session.id, 'How do I activate my card?');
    expect((await alice.waitForAnswer(before.answer.id)).status).toBe('DONE');

    process.kill(redis!.pid!, 'SIGSTOP');
    try {
      // The gateway and every subgraph on the path wait at most their command timeout per Redis call
      // (a few calls in a row on one request), never until the connection breaks.
      const ask = await timedCode(() => alice.ask(session.id, STALLED_QUESTION, STALLED_MESSAGE_ID), 30_000);
      expect(ask.code).toBe('SERVICE_UNAVAILABLE');
      expect(ask.ms).toBeLessThan(10_000);
      const read = await timedCode(() => alice.session(session.id), 30_000);
      expect(read.code).toBe('SERVICE_UNAVAILABLE');
      expect(read.ms).toBeLessThan(10_000);
      // Not ready meanwhile (its PING is bounded on its own), so a load balancer sends it nothing.
      const ready = await fetch(`http://127.0.0.1:${e2e.cluster.portOf('answer')}/health/ready`, { signal: AbortSignal.timeout(10_000) });
      expect(ready.status).toBe(503);
      process.stdout.write(`redis stalled: ask refused after ${ask.ms} ms, session read after ${read.ms} ms\n`);
    } finally {
      process.kill(redis!.pid!, 'SIGCONT');
    }

    // Back: the client retries the refused question with its message id. It is accepted and answered, and
    // the session holds it once whatever part of the refused attempt Redis applied after the pause.
    const deadline = Date.now() + 20_000;
    let retried: Awaited<ReturnType<typeof alice.ask>> | undefined;
    while (!retried) {
      try {
        retried = await alice.ask(session.id, STALLED_QUESTION, STALLED_MESSAGE_ID);
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    expect((await alice.waitForAnswer(retried.answer.id)).status).toBe('DONE');
    const turns = (await alice.session(session.id))?.turns ?? [];
    expect(turns.filter((t) => t.role === 'USER' && t.text === STALLED_QUESTION)).toHaveLength(1);
    // The stalled calls' late replies did not shift the connections' replies onto later requests.
    const after = await alice.ask(session.id, 'How do I activate my card?');
    const answered = await alice.waitForAnswer(after.answer.id);
    expect(answered.status).toBe('DONE');
    expect(answered.sources[0]?.id).toBe((await alice.answer(before.answer.id))?.sources[0]?.id);
  }, 120_000);
});
