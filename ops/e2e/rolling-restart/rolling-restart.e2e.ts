import { e2eEnvironment, e2ePort } from '../harness/cluster';
import { chaosClients } from '../harness/chaos-clients';
import { chaosFigures, printFigures, startSteadyLoad } from '../harness/steady-load';

// Issue 16 point 4e under steady asks with streaming subscribers: every service restarted one by one (a
// rolling deploy: SIGTERM, graceful drain, start again). Nothing lost, nothing answered twice. (An inference
// worker cut off from the network, 4d, is ops/e2e/network-cut: a real cut in a network namespace.)
const e2e = e2eEnvironment('rolling-restart', 16540);
const SECOND_WORKER = { instance: 'inference-2', port: e2ePort(16547) };
const TENANTS = ['roll-bank', 'roll-shop'];

const { clientOf, assistantTurns, seedAndWarm, closeAll } = chaosClients(e2e);

const load = () =>
  startSteadyLoad({
    tenants: TENANTS,
    everyMs: 300,
    question: 'how long does card delivery take?',
    clientFor: (tenant, user) => clientOf(tenant, user),
    answerTimeoutMs: 90_000,
  });

beforeAll(async () => {
  Object.assign(e2e.env, { OUTBOX_SWEEP_INTERVAL_MS: '500', OUTBOX_RESEND_AFTER_MS: '3000', INFERENCE_CLAIM_TTL_MS: '4000' });
  await e2e.cluster.startAll();
  await e2e.cluster.start('inference', {}, SECOND_WORKER);
  for (const tenant of TENANTS) {
    await seedAndWarm(tenant);
  }
}, 180_000);

afterAll(async () => {
  await closeAll();
  await e2e.cluster.stopAll();
}, 120_000);

it('every service restarted one by one under load (a rolling deploy): nothing lost or answered twice', async () => {
  const asks = load();
  await new Promise((r) => setTimeout(r, 4_000));
  const disruptedAt = Date.now();
  const restarts: string[] = [];
  const uncleanExits: string[] = [];
  for (const name of ['tenant', 'session', 'answer', 'inference', 'gateway'] as const) {
    const began = Date.now();
    const output = e2e.cluster.processes.get(name)!.output;
    const code = await e2e.cluster.stop(name);
    if (code !== 0) {
      // Seen once in five runs (session, exit 1 under load, cause not found yet): reported, not hidden.
      const serious = output
        .join('')
        .split('\n')
        .filter((line) => line && !/"level":(10|20|30),/.test(line));
      process.stderr.write(`${name} exited ${code} on SIGTERM:\n${serious.slice(-15).join('\n')}\n`);
      uncleanExits.push(`${name} ${code}`);
    }
    await e2e.cluster.start(name);
    restarts.push(`${name} ${Date.now() - began} ms`);
    await new Promise((r) => setTimeout(r, 2_000));
  }
  expect(await e2e.cluster.stop(SECOND_WORKER.instance)).toBe(0);
  await e2e.cluster.start('inference', {}, SECOND_WORKER);
  const recoveredAt = Date.now();
  await new Promise((r) => setTimeout(r, 6_000));
  const records = await asks.stop();
  const figures = await chaosFigures(records, { disruptedAt, recoveredAt }, assistantTurns);
  printFigures(
    'rolling restart',
    figures,
    `restarts: ${restarts.join(', ')}; exit codes other than 0: ${uncleanExits.join(', ') || 'none'}`,
  );
  expect(figures.lost).toBe(0);
  expect(figures.duplicated).toBe(0);
  // Asks are refused only while the one replica of a subgraph or the gateway restarts.
  expect(figures.longestRefusalMs).toBeLessThan(15_000);
}, 240_000);
