import { spawn, type ChildProcess } from 'node:child_process';
import Redis from 'ioredis';

/**
 * A redis-server of a scenario's own on `port` (no persistence), resolved once it answers PING: for
 * scenarios that stop or pause Redis, which they must never do to the suite's shared one.
 */
export async function startOwnRedis(port: number): Promise<ChildProcess> {
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const client = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    for (let i = 0; i < 50; i++) {
      try {
        await client.connect();
        if ((await client.ping()) === 'PONG') return server;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    server.kill('SIGKILL');
    throw new Error(`redis-server on ${port} did not answer`);
  } finally {
    client.disconnect();
  }
}
