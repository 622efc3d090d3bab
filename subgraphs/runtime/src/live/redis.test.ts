import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { connectRedis, type Redis } from '../redis';
import { RedisTransport } from './redis';

// Real Redis (127.0.0.1:6379 or REDIS_URL): the race below only exists on a real connection.
describe('RedisTransport on real Redis', () => {
  let redis: Redis;
  const channel = (name: string) => `bdtest-${randomBytes(4).toString('hex')}:${name}`;

  beforeAll(async () => {
    redis = await connectRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  });
  afterAll(() => redis.disconnect());

  it('serves subscriptions that arrive while the subscriber connection runs its ready check', async () => {
    const transport = new RedisTransport(redis);
    const received: string[] = [];
    const channels = Array.from({ length: 12 }, (_, i) => channel(String(i)));
    // All three start before the dedicated connection exists: none may fail.
    // A few ms apart, so later ones arrive while the connection runs its ready check.
    const unsubscribes = await Promise.all(
      channels.map(async (c, i) => {
        await new Promise((r) => setTimeout(r, i));
        return transport.subscribe(c, (m) => received.push(`${c}=${m}`));
      }),
    );
    for (const c of channels) await transport.publish(c, 'hello');
    const deadline = Date.now() + 2000;
    while (received.length < channels.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(received.sort()).toEqual(channels.map((c) => `${c}=hello`).sort());
    unsubscribes.forEach((u) => u());
    await transport.close();
  });
});

// A Redis of this test's own (redis-server on a free port), so it can be paused without touching the shared one.
describe('RedisTransport when a SUBSCRIBE times out', () => {
  let server: ChildProcess;
  let redis: Redis;

  beforeAll(async () => {
    const port = await freePort();
    server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    for (let attempt = 0; ; attempt++) {
      try {
        redis = await connectRedis(`redis://127.0.0.1:${port}`, { connectTimeoutMs: 500, commandTimeoutMs: 300 });
        break;
      } catch (error) {
        if (attempt > 30) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });
  afterAll(async () => {
    if (server.pid) process.kill(server.pid, 'SIGCONT');
    redis?.disconnect();
    server.kill('SIGKILL');
  });

  it('does not leave the connection subscribed once Redis answers again', async () => {
    const transport = new RedisTransport(redis);
    const unsubscribeWarm = await transport.subscribe('warm', () => undefined); // the subscriber connection is up
    process.kill(server.pid!, 'SIGSTOP');
    let failed: unknown;
    try {
      await transport.subscribe('late', () => undefined);
    } catch (error) {
      failed = error;
    } finally {
      process.kill(server.pid!, 'SIGCONT');
    }
    expect((failed as Error | undefined)?.message).toBe('Command timed out');
    // The timed-out SUBSCRIBE ran once Redis resumed; the UNSUBSCRIBE queued after it undid it.
    let subscribers = -1;
    for (let i = 0; i < 50 && subscribers !== 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const reply = (await redis.call('PUBSUB', 'NUMSUB', 'late')) as [string, number];
      subscribers = Number(reply[1]);
    }
    expect(subscribers).toBe(0);
    unsubscribeWarm();
    await transport.close();
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
