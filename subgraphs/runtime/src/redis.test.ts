import { createServer, type Server, type Socket } from 'node:net';
import { connectRedis, isRedisUnavailableError, type Redis } from './redis';

/**
 * A TCP server that answers what connecting takes (ioredis's INFO ready check, connectRedis's PING) and
 * then reads everything and answers nothing, as a hung Redis does while the kernel keeps its connections open.
 */
async function stalledRedis(): Promise<{ port: number; server: Server; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    let connected = false;
    socket.on('data', (chunk: Buffer) => {
      // Each command is a RESP array whose first bulk string is its name.
      for (const [, name] of chunk.toString().matchAll(/\*\d+\r\n\$\d+\r\n([A-Za-z]+)\r\n/g)) {
        if (connected) return;
        const command = name!.toUpperCase();
        if (command === 'INFO') socket.write('$11\r\nloading:0\r\n\r\n');
        else if (command === 'PING') {
          socket.write('+PONG\r\n');
          connected = true;
        } else socket.write('+OK\r\n'); // CLIENT SETINFO and the like
      }
    });
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server, sockets };
}

describe('connectRedis against a Redis that stops answering', () => {
  let stalled: Awaited<ReturnType<typeof stalledRedis>>;
  let redis: Redis | undefined;

  beforeEach(async () => {
    stalled = await stalledRedis();
  });
  afterEach(async () => {
    redis?.disconnect();
    for (const socket of stalled.sockets) socket.destroy();
    await new Promise((resolve) => stalled.server.close(resolve));
  });

  it('fails a command after the command timeout, with an error callers answer SERVICE_UNAVAILABLE', async () => {
    redis = await connectRedis(`redis://127.0.0.1:${stalled.port}`, { commandTimeoutMs: 200 });
    const started = Date.now();
    const error = await redis.get('some-key').then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect(isRedisUnavailableError(error)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('with 0 leaves the command waiting', async () => {
    redis = await connectRedis(`redis://127.0.0.1:${stalled.port}`, { commandTimeoutMs: 0 });
    const outcome = await Promise.race([
      redis.get('some-key').then(
        () => 'answered',
        () => 'failed',
      ),
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 500)),
    ]);
    expect(outcome).toBe('still waiting');
  });
});

describe('isRedisUnavailableError', () => {
  it('is true for a lost connection, a failover and a timed-out command, false for a bug in a command', () => {
    expect(isRedisUnavailableError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isRedisUnavailableError(new Error('CLUSTERDOWN The cluster is down'))).toBe(true);
    expect(isRedisUnavailableError(new Error('Command timed out'))).toBe(true);
    expect(isRedisUnavailableError(new Error('ERR wrong number of arguments for command'))).toBe(false);
  });
});
