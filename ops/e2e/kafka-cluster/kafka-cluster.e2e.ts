import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { Kafka, logLevel, ConfigResourceTypes } from 'kafkajs';
import { e2eEnvironment, e2ePort } from '../harness/cluster';
import { chaosClients } from '../harness/chaos-clients';
import { chaosFigures, printFigures, startSteadyLoad } from '../harness/steady-load';

// Issue 16 points 2 and 4a: three Kafka brokers in KRaft mode (ops/kafka/kafka-cluster.sh), the request
// topic created with replication factor 3 and min.insync.replicas 2, acks=all from the idempotent
// producer, three inference workers in one group; then the leader of a busy partition SIGKILLed while
// questions flow with streaming subscribers, and brought back.
const e2e = e2eEnvironment('kafka-cluster', 16520);
const FIRST_BROKER_PORT = e2ePort(16600);
const clusterEnv = {
  ...process.env,
  KAFKA_CLUSTER_PORT: String(FIRST_BROKER_PORT),
  KAFKA_CLUSTER_DIR: `/tmp/beedesk-e2e-kafka-cluster-${FIRST_BROKER_PORT}`,
};
const TENANTS = ['kc-bank', 'kc-shop'];

function kafkaCluster(...args: string[]): string {
  const run = spawnSync('bash', [resolve(__dirname, '../../kafka/kafka-cluster.sh'), ...args], { env: clusterEnv, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`kafka-cluster.sh ${args.join(' ')} failed: ${run.stderr}`);
  return run.stdout;
}

const { clientOf, assistantTurns, seedAndWarm, closeAll } = chaosClients(e2e);

let kafka: Kafka;

beforeAll(async () => {
  const brokers = kafkaCluster('start').trim().split('\n').pop()!;
  kafka = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  Object.assign(e2e.env, {
    KAFKA_BROKERS: brokers,
    KAFKA_REPLICATION_FACTOR: '3',
    KAFKA_MIN_INSYNC_REPLICAS: '2',
    OUTBOX_SWEEP_INTERVAL_MS: '500',
    OUTBOX_RESEND_AFTER_MS: '3000',
    INFERENCE_CLAIM_TTL_MS: '6000',
  });
  await e2e.cluster.startAll();
  // Three inference workers in one consumer group.
  for (const [i, port] of [e2ePort(16527), e2ePort(16528)].entries()) {
    await e2e.cluster.start('inference', {}, { instance: `inference-${i + 2}`, port });
  }
  for (const tenant of TENANTS) {
    await seedAndWarm(tenant);
  }
}, 240_000);

afterAll(async () => {
  await closeAll();
  await e2e.cluster.stopAll();
  kafkaCluster('stop');
}, 120_000);

it('the request topic is replicated three times with min.insync.replicas 2; three workers share the group', async () => {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [topic] = (await admin.fetchTopicMetadata({ topics: [e2e.topic] })).topics;
    expect(topic!.partitions).toHaveLength(6);
    for (const partition of topic!.partitions) expect(partition.replicas).toHaveLength(3);
    const configs = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: e2e.topic, configNames: ['min.insync.replicas'] }],
      includeSynonyms: false,
    });
    expect(configs.resources[0]!.configEntries.find((c) => c.configName === 'min.insync.replicas')?.configValue).toBe('2');
    const { groups } = await admin.describeGroups([e2e.env.KAFKA_GROUP_ID!]);
    expect(groups[0]!.members).toHaveLength(3);
  } finally {
    await admin.disconnect();
  }
}, 60_000);

it('the leader of a busy partition SIGKILLed under load: asks go on, nothing lost or answered twice', async () => {
  const load = startSteadyLoad({
    tenants: TENANTS,
    everyMs: 300,
    question: 'how long does card delivery take?',
    clientFor: (tenant, user) => clientOf(tenant, user),
  });
  await new Promise((r) => setTimeout(r, 6_000));
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(e2e.topic);
  const busiest = offsets.reduce((a, b) => (Number(b.high) > Number(a.high) ? b : a));
  const [topic] = (await admin.fetchTopicMetadata({ topics: [e2e.topic] })).topics;
  const leader = topic!.partitions.find((p) => p.partitionId === busiest.partition)!.leader;
  await admin.disconnect();
  const disruptedAt = Date.now();
  kafkaCluster('kill', String(leader));
  // The partition's leadership moves to an in-sync replica; produce and consume go on with 2 of 3.
  await new Promise((r) => setTimeout(r, 12_000));
  kafkaCluster('restart', String(leader));
  const recoveredAt = Date.now();
  await new Promise((r) => setTimeout(r, 8_000));
  const records = await load.stop();
  const figures = await chaosFigures(records, { disruptedAt, recoveredAt }, assistantTurns);
  printFigures(
    'kafka leader killed',
    figures,
    `broker ${leader} (leader of partition ${busiest.partition}) down ${recoveredAt - disruptedAt} ms; refused: ${records
      .filter((r) => r.refused)
      .map((r) => r.refused)
      .slice(0, 2)
      .join(' | ')}`,
  );
  expect(figures.lost).toBe(0);
  expect(figures.duplicated).toBe(0);
  expect(figures.longestRefusalMs).toBeLessThan(10_000);
  expect(records.filter((r) => r.sentAt > recoveredAt && r.firstTokenMs !== undefined).length).toBeGreaterThan(0);
}, 180_000);
