import { startAnswerService } from '@beedesk/answer';
import { connectRedis, createLogger, createRedisEventBus, InProcessQueue, type StartedService } from '@beedesk/runtime';
import { startSessionService } from '@beedesk/session';
import { startTenantService } from '@beedesk/tenant';

// Child process of `npm run bench:subscriptions`: the tenant, session and answer subgraphs on real
// Redis (live events over Redis pub/sub), with an in-process queue instead of Kafka (no worker:
// the benchmark publishes the answer events itself). Both gateways under test use these.
async function main(): Promise<void> {
  const [redisUrl, keyPrefix, secret, basePort] = process.argv.slice(2) as [string, string, string, string];
  const logger = createLogger('bench-subgraphs', 'warn');
  const redis = await connectRedis(redisUrl);
  const events = createRedisEventBus(redis, keyPrefix, logger, 100_000);
  const deps = (offset: number) => ({
    redis,
    keyPrefix,
    internalSecret: secret,
    logger,
    host: '127.0.0.1',
    port: Number(basePort) + offset,
    defaultMetrics: offset === 1,
    events,
  });
  const started: StartedService[] = [
    await startTenantService(deps(1)),
    await startSessionService(deps(2)),
    await startAnswerService({ ...deps(3), queue: new InProcessQueue(logger) }),
  ];
  const stop = async () => {
    for (const service of started.reverse()) await service.close().catch(() => undefined);
    await events.close();
    redis.disconnect();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('disconnect', () => void stop());
  process.send?.('ready');
}

void main().catch((error: unknown) => {
  process.stderr.write(`bench subgraphs failed: ${(error as Error).message}\n`);
  process.exit(1);
});
