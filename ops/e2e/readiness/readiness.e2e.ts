import type { ChildProcess } from 'node:child_process';
import type { ServiceName } from '../../src/cluster';
import { e2eEnvironment, e2ePort } from '../harness/cluster';
import { startOwnRedis } from '../harness/own-redis';

// Liveness and readiness in the Kubernetes sense: a service whose Redis is gone is alive (do not restart it)
// but not ready (send it no traffic), and ready again once Redis is back.
const e2e = e2eEnvironment('readiness', 15930);
// A Redis of this scenario's own, so it can be stopped without touching the shared one.
const redisPort = e2ePort(15960);
const redisUrl = `redis://127.0.0.1:${redisPort}`;
let redis: ChildProcess | null = null;
const SERVICES: ServiceName[] = ['tenant', 'answer', 'inference', 'gateway'];

async function startRedis(): Promise<void> {
  redis = await startOwnRedis(redisPort);
}

async function stopRedis(): Promise<void> {
  const running = redis;
  redis = null;
  if (!running || running.exitCode !== null) return;
  const exited = new Promise((resolve) => running.once('exit', resolve));
  running.kill('SIGKILL');
  await exited;
}

async function health(service: ServiceName, route: string): Promise<{ status: number; checks: Record<string, string> }> {
  const response = await fetch(`http://127.0.0.1:${e2e.cluster.portOf(service)}${route}`, { signal: AbortSignal.timeout(5000) });
  const body = (await response.json()) as { checks: Record<string, string> };
  return { status: response.status, checks: body.checks };
}

async function until<T>(probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`condition not met in time; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
    last = await probe();
  }
  return last;
}

beforeAll(async () => {
  await startRedis();
  for (const service of SERVICES) await e2e.cluster.start(service, { REDIS_URL: redisUrl });
});
afterAll(async () => {
  await e2e.cluster.stopAll();
  await stopRedis();
});

describe('liveness and readiness', () => {
  const services = SERVICES;

  it('with Redis up every route is ok', async () => {
    for (const service of services) {
      expect(await health(service, '/health/live')).toMatchObject({ status: 200 });
      expect(await health(service, '/health/ready')).toMatchObject({ status: 200, checks: { redis: 'ok' } });
      expect(await health(service, '/health')).toMatchObject({ status: 200 });
    }
    // Beside Redis: the answer service's Kafka producer is connected, the inference service consumes.
    expect((await health('answer', '/health/ready')).checks).toEqual({ redis: 'ok', kafka: 'ok' });
    expect((await health('inference', '/health/ready')).checks).toEqual({ redis: 'ok', consumer: 'ok', kafka: 'ok' });
  });

  it('Redis unreachable: live but not ready (answering within seconds), then ready again once Redis is back', async () => {
    await stopRedis();
    for (const service of services) {
      const started = Date.now();
      const ready = await until(
        () => health(service, '/health/ready'),
        (h) => h.status === 503,
      );
      expect(ready.checks['redis']).not.toBe('ok');
      expect(Date.now() - started).toBeLessThan(15_000);
      expect((await health(service, '/health')).status).toBe(503);
      expect(await health(service, '/health/live')).toMatchObject({ status: 200 });
    }
    await startRedis();
    for (const service of services) {
      await until(
        () => health(service, '/health/ready'),
        (h) => h.status === 200,
        20_000,
      );
    }
  });
});
