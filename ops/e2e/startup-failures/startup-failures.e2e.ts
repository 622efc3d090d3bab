import { e2eEnvironment } from '../harness/cluster';

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
});
