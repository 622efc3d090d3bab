import { createServer } from 'node:net';
import { Cluster } from '../../src/cluster';
import { e2eEnvironment, e2ePort } from '../harness/cluster';

// A service that cannot reach what it needs must say so and exit non-zero, never hang.
const e2e = e2eEnvironment('startup', 14300);

async function startupError(
  service: 'answer' | 'inference' | 'gateway' | 'tenant',
  env: NodeJS.ProcessEnv,
): Promise<{ message: string; ms: number }> {
  const started = Date.now();
  try {
    await e2e.cluster.start(service, env);
  } catch (error) {
    return { message: (error as Error).message, ms: Date.now() - started };
  }
  await e2e.cluster.stop(service);
  throw new Error(`${service} started although it should not have`);
}

afterAll(() => e2e.cluster.stopAll());

describe('start-up failures', () => {
  it('Redis down: clear message, exit 1, within seconds', async () => {
    const { message, ms } = await startupError('tenant', { REDIS_URL: 'redis://127.0.0.1:1' });
    expect(message).toMatch(/exited with code 1/);
    expect(message).toMatch(/Cannot reach Redis at redis:\/\/127\.0\.0\.1:1 .*set REDIS_URL/);
    expect(ms).toBeLessThan(15_000);
  });

  it('Kafka down: clear message, exit 1, within seconds', async () => {
    const { message, ms } = await startupError('answer', { KAFKA_BROKERS: '127.0.0.1:1' });
    expect(message).toMatch(/exited with code 1/);
    expect(message).toMatch(/Cannot reach Kafka at 127\.0\.0\.1:1 .*KAFKA_BROKERS/);
    expect(ms).toBeLessThan(30_000);
  });

  it('missing or invalid configuration: every problem listed, exit 1', async () => {
    const missing = await startupError('inference', { REDIS_URL: '' });
    expect(missing.message).toMatch(/REDIS_URL: required/);
    const invalid = await startupError('gateway', { PORT: 'abc', JWT_SECRET: 'short' });
    expect(invalid.message).toMatch(/Invalid configuration/);
    expect(invalid.message).toMatch(/PORT/);
    expect(invalid.message).toMatch(/JWT_SECRET: must be at least 16 characters/);
  });

  it('one service failing in startAll stops the ones already started (no orphans holding ports)', async () => {
    // The answer subgraph's port is taken, so it exits; the other subgraphs had started by then.
    const blocker = createServer();
    const answerPort = e2ePort(14322);
    await new Promise<void>((done) => blocker.listen(answerPort, '127.0.0.1', done));
    const ports = {
      tenant: e2ePort(14320),
      session: e2ePort(14321),
      answer: answerPort,
      inference: e2ePort(14323),
      gateway: e2ePort(14324),
    };
    const cluster = new Cluster({ env: e2e.env, ports });
    try {
      await expect(cluster.startAll()).rejects.toThrow(/answer exited with code 1/);
      expect(cluster.processes.size).toBe(0);
      for (const port of [ports.tenant, ports.session, ports.inference]) {
        await expect(fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
      }
    } finally {
      blocker.close();
      await cluster.stopAll();
    }
  });
});
