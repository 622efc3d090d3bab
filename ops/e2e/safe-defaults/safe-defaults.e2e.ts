import type { ServiceName } from '../../src/cluster';
import { e2eEnvironment } from '../harness/cluster';

// A real process bound to a reachable address must not run with the published development secrets.
const e2e = e2eEnvironment('safe-defaults', 15820);

/** NODE_ENV, INTERNAL_SECRET and JWT_SECRET unset (empty means unset), bound to every interface. */
const REACHABLE_WITHOUT_SECRETS: NodeJS.ProcessEnv = { HOST: '0.0.0.0', NODE_ENV: '', INTERNAL_SECRET: '', JWT_SECRET: '' };

async function refusal(service: ServiceName, env: NodeJS.ProcessEnv): Promise<string> {
  try {
    await e2e.cluster.start(service, env);
  } catch (error) {
    return (error as Error).message;
  }
  await e2e.cluster.stop(service);
  throw new Error(`${service} started although it should not have`);
}

async function startsAndStops(service: ServiceName, env: NodeJS.ProcessEnv): Promise<void> {
  const running = await e2e.cluster.start(service, env);
  expect(running.child.exitCode).toBeNull();
  expect(await e2e.cluster.stop(service)).toBe(0);
}

afterAll(() => e2e.cluster.stopAll());

describe('safe defaults', () => {
  it.each<ServiceName>(['tenant', 'session', 'answer', 'inference'])(
    '%s on 0.0.0.0 without INTERNAL_SECRET refuses to start, says why in one line, exits 78',
    async (service) => {
      const message = await refusal(service, REACHABLE_WITHOUT_SECRETS);
      expect(message).toMatch(/exited with code 78/);
      const lines = message.split('\n').filter((line) => line.includes('refusing to start'));
      // One JSON log line and the same sentence on stderr.
      expect(lines.some((line) => /"level":60/.test(line))).toBe(true);
      expect(message).toMatch(
        /refusing to start: HOST=0\.0\.0\.0 is reachable from other machines but INTERNAL_SECRET is not set, .*BEEDESK_DEV_DEPLOYMENT=true/,
      );
    },
  );

  it('the gateway on 0.0.0.0 names both secrets it would take from the published defaults', async () => {
    const message = await refusal('gateway', REACHABLE_WITHOUT_SECRETS);
    expect(message).toMatch(/exited with code 78/);
    expect(message).toMatch(/refusing to start: HOST=0\.0\.0\.0 .* INTERNAL_SECRET, JWT_SECRET are not set/);
    // Only the missing one is named.
    const jwtOnly = await refusal('gateway', { ...REACHABLE_WITHOUT_SECRETS, INTERNAL_SECRET: e2e.env.INTERNAL_SECRET });
    expect(jwtOnly).toMatch(/but JWT_SECRET is not set/);
  });

  it('starts on 0.0.0.0 with its secrets set', async () => {
    const secrets = { HOST: '0.0.0.0', NODE_ENV: '' };
    await startsAndStops('tenant', secrets);
    await startsAndStops('gateway', secrets);
  });

  it('starts on loopback without secrets (development on one machine)', async () => {
    const loopback = { HOST: '127.0.0.1', NODE_ENV: '', INTERNAL_SECRET: '', JWT_SECRET: '' };
    await startsAndStops('tenant', loopback);
    await startsAndStops('gateway', loopback);
  });

  it('starts on 0.0.0.0 without secrets when told it is a development deployment', async () => {
    await startsAndStops('tenant', { ...REACHABLE_WITHOUT_SECRETS, BEEDESK_DEV_DEPLOYMENT: 'true' });
    await startsAndStops('gateway', { ...REACHABLE_WITHOUT_SECRETS, NODE_ENV: 'development' });
  });
});
