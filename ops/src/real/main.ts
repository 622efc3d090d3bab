import { Cluster } from '../cluster';
import { seedDemoTenants } from '../demo/seed';

// `npm run start:real`: every service its own process against real Redis and Kafka.
async function main(): Promise<void> {
  const env = {
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  };
  const cluster = new Cluster({ env, echo: true });
  const stop = async () => {
    await cluster.stopAll();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  try {
    await cluster.startAll();
  } catch (error) {
    process.stderr.write(`\n${(error as Error).message}\n`);
    await cluster.stopAll();
    process.exit(1);
  }
  if (process.env.SEED_DEMO !== 'false') {
    const seeded = await seedDemoTenants(cluster.urlOf('gateway'));
    process.stderr.write(`seeded ${seeded.map((s) => `${s.tenant} (${s.articles})`).join(', ')}\n`);
  }
  process.stderr.write(
    `\nbeedesk is running in real mode (Redis ${env.REDIS_URL}, Kafka ${env.KAFKA_BROKERS}): ${cluster.urlOf('gateway')}\n`,
  );
}

void main();
