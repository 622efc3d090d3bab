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
