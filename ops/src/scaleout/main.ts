import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Cluster, repoRoot, SERVICE_ORDER, type ServiceName } from '../cluster';
import { seedDemoTenants } from '../demo/seed';

// `npm run cluster:start`: the platform as a cluster on loopback, in one command — three Kafka brokers
// (KRaft, replication 3, min.insync.replicas 2), a six-node Redis Cluster (three masters, three replicas),
// two gateways, two replicas of each subgraph and three inference workers. Ctrl-C (or `npm run
// cluster:stop` from another shell) stops everything it started.

const portBase = Number(process.env.BEEDESK_CLUSTER_PORT_BASE ?? 4000);
const redisPort = Number(process.env.REDIS_CLUSTER_PORT ?? 7000);
const kafkaPort = Number(process.env.KAFKA_CLUSTER_PORT ?? 9192);
const redisScript = join(repoRoot, 'ops', 'redis', 'cluster.sh');
const kafkaScript = join(repoRoot, 'ops', 'kafka', 'kafka-cluster.sh');
const scriptEnv = { ...process.env, REDIS_CLUSTER_PORT: String(redisPort), KAFKA_CLUSTER_PORT: String(kafkaPort) };

function script(path: string, command: string): string {
  const out = execFileSync('bash', [path, command], { env: scriptEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return out.trim().split('\n').pop()!;
}

/** Ports of one replica set: gateway at `base`, the subgraphs at base+1…+4 (as 4000–4004). */
function portsFrom(base: number): Record<ServiceName, number> {
  return Object.fromEntries(SERVICE_ORDER.map((name, i) => [name, base + (name === 'gateway' ? 0 : i + 1)])) as Record<ServiceName, number>;
}

export function stopClusters(): void {
  script(kafkaScript, 'stop');
  script(redisScript, 'stop');
}

async function main(): Promise<void> {
  if (process.argv[2] === 'stop') {
    stopClusters();
    return;
  }
  process.stderr.write('starting the Redis Cluster and three Kafka brokers…\n');
  const env: NodeJS.ProcessEnv = {
    REDIS_CLUSTER_NODES: script(redisScript, 'start'),
    KAFKA_BROKERS: script(kafkaScript, 'start'),
    KAFKA_REPLICATION_FACTOR: '3',
    KAFKA_MIN_INSYNC_REPLICAS: '2',
    KAFKA_PARTITIONS: '12',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  };
  // Replica set A answers on portBase…+5, B on portBase+100…+105; each gateway plans over its own set,
  // and all of them share the Redis Cluster and the consumer group. A third worker runs on portBase+106.
  const a = new Cluster({ env, ports: portsFrom(portBase), echo: true });
  const b = new Cluster({ env, ports: portsFrom(portBase + 100), echo: true });
  const stop = async (code: number) => {
    await a.stopAll();
    await b.stopAll();
    stopClusters();
    process.exit(code);
  };
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
  try {
    await a.startAll();
    await b.startAll();
    await b.start('inference', {}, { instance: 'inference-3', port: portBase + 106 });
  } catch (error) {
    process.stderr.write(`\n${(error as Error).message}\n`);
    await stop(1);
  }
  if (process.env.SEED_DEMO !== 'false') {
    const seeded = await seedDemoTenants(a.urlOf('gateway'));
    process.stderr.write(`seeded ${seeded.map((s) => `${s.tenant} (${s.articles})`).join(', ')}\n`);
  }
  process.stderr.write(
    `\nbeedesk is running as a cluster: gateways ${a.urlOf('gateway')} and ${b.urlOf('gateway')}\n` +
      `  Redis Cluster ${env.REDIS_CLUSTER_NODES}\n  Kafka ${env.KAFKA_BROKERS}\n` +
      `  subgraphs ${portBase + 1}–${portBase + 5} and ${portBase + 101}–${portBase + 105}, third inference worker ${portBase + 106}\n` +
      'Ctrl-C stops it all.\n',
  );
}

void main();
