import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { repoRoot } from './cluster';
import { join } from 'node:path';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import Redis from 'ioredis';

const run = promisify(execFile);

// Real Redis and Kafka for the e2e suite and the benchmarks: given by env, found, or started here.

async function redisAnswers(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 1500, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** REDIS_URL if given, else a Redis on 127.0.0.1:6379, else one we start with redis-server. */
export async function provideRedis(): Promise<{ url: string; started: ChildProcess | null }> {
  const given = process.env.REDIS_URL;
  if (given) {
    if (await redisAnswers(given)) return { url: given, started: null };
    throw new Error(`REDIS_URL=${given} does not answer PING. Start that Redis or unset REDIS_URL to let the tests find one.`);
  }
  const local = 'redis://127.0.0.1:6379';
  if (await redisAnswers(local)) return { url: local, started: null };
  const port = 16379;
  let child: ChildProcess;
  try {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      setTimeout(resolve, 300);
    });
  } catch {
    throw new Error(
      'No Redis answers on 127.0.0.1:6379 and redis-server is not installed. Install Redis (e.g. `apt-get install redis-server`) or set REDIS_URL.',
    );
  }
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50; i++) {
    if (await redisAnswers(url)) return { url, started: child };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error(`Started redis-server on port ${port} but it does not answer. Set REDIS_URL to a working Redis.`);
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, timeout: 1000 });
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

export const TEST_KAFKA_PORT = Number(process.env.TEST_KAFKA_PORT ?? 19092);
const kafkaScript = join(repoRoot, 'ops', 'kafka', 'kafka.sh');

/** KAFKA_BROKERS if given, else a single-node Apache Kafka started from ops/kafka (jars cached). */
export async function provideKafka(port = TEST_KAFKA_PORT): Promise<{ brokers: string; started: boolean }> {
  if (process.env.KAFKA_BROKERS) return { brokers: process.env.KAFKA_BROKERS, started: false };
  if (!existsSync(kafkaScript)) throw new Error(`${kafkaScript} is missing`);
  // A broker already on the port is someone else's (kafka.sh start would only print its address): use it,
  // and never count it as started here, or this run's teardown would stop a broker others share.
  if (await portAnswers(port)) return { brokers: `127.0.0.1:${port}`, started: false };
  try {
    const { stdout } = await run('bash', [kafkaScript, 'start'], {
      env: { ...process.env, KAFKA_PORT: String(port) },
      timeout: 240_000,
    });
    const lines = stdout.trim().split('\n');
    return { brokers: lines[lines.length - 1]!, started: true };
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr ?? (error as Error).message;
    throw new Error(
      `Could not start Kafka with ops/kafka/kafka.sh (needs Java 17+ and Maven, or a cached download):\n${detail}\n` +
        'Install Java and Maven, or set KAFKA_BROKERS to a running Apache Kafka 3.x broker.',
    );
  }
}

export async function stopKafka(port = TEST_KAFKA_PORT): Promise<void> {
  await run('bash', [kafkaScript, 'stop'], { env: { ...process.env, KAFKA_PORT: String(port) }, timeout: 60_000 });
}
