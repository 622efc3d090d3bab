import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kedaSh } from '@kubernetes-models/keda';
import { apps, autoscaling, policy, v1 } from 'kubernetes-models';
import { parseAllDocuments } from 'yaml';

// ops/k8s/base against the Kubernetes API's own schemas (kubernetes-models: classes generated from the
// Kubernetes OpenAPI document, with a JSON-schema validator) and KEDA's CRD schema
// (@kubernetes-models/keda). Strimzi's and the Redis operator's resources have no such package: their
// shape is checked below by what the platform relies on (replication, min.insync.replicas, topology).
const BASE = join(__dirname, '../../k8s/base');
const SERVICES = ['gateway', 'tenant', 'session', 'answer', 'inference', 'handoff'] as const;

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
}

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': v1.ConfigMap,
  'v1/Service': v1.Service,
  'apps/v1/Deployment': apps.v1.Deployment,
  'policy/v1/PodDisruptionBudget': policy.v1.PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': autoscaling.v2.HorizontalPodAutoscaler,
  'keda.sh/v1alpha1/ScaledObject': kedaSh.v1alpha1.ScaledObject,
};
const OPERATOR_KINDS = new Set([
  'kafka.strimzi.io/v1beta2/Kafka',
  'kafka.strimzi.io/v1beta2/KafkaNodePool',
  'kafka.strimzi.io/v1beta2/KafkaTopic',
  'redis.redis.opstreelabs.in/v1beta2/RedisCluster',
]);

function loadManifests(): Manifest[] {
  return readdirSync(BASE)
    .filter((file) => file.endsWith('.yaml'))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(BASE, file), 'utf8'))
        .map((doc) => {
          if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
          return doc.toJS() as Manifest | null;
        })
        .filter((m): m is Manifest => m !== null),
    );
}

function validate(manifest: Manifest): void {
  const model = MODELS[`${manifest.apiVersion}/${manifest.kind}`];
  if (!model) throw new Error(`no schema for ${manifest.apiVersion} ${manifest.kind}`);
  new model(manifest as never).validate();
}

const manifests = loadManifests();
const find = (kind: string, name: string): Manifest => {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
};

it.each(manifests.filter((m) => !OPERATOR_KINDS.has(`${m.apiVersion}/${m.kind}`)).map((m) => [`${m.kind} ${m.metadata.name}`, m]))(
  '%s is valid against its schema',
  (_, manifest) => {
    expect(() => validate(manifest)).not.toThrow();
  },
);

it('the validator refuses what Kubernetes would refuse', () => {
  const deployment = structuredClone(find('Deployment', 'answer')) as unknown as {
    spec: { template: { spec: { containers: Record<string, unknown>[] } } };
  };
  deployment.spec.template.spec.containers[0]!.ports = [{ containerPort: 'http-port' }];
  expect(() => validate(deployment as unknown as Manifest)).toThrow(/containerPort/);
  const scaled = structuredClone(find('ScaledObject', 'inference')) as unknown as { spec: Record<string, unknown> };
  delete scaled.spec.scaleTargetRef;
  expect(() => validate(scaled as unknown as Manifest)).toThrow(/scaleTargetRef/);
});

it.each(SERVICES)(
  '%s: Deployment, Service and PodDisruptionBudget, probes on /health/live and /health/ready, its image, non-root',
  (name) => {
    const deployment = new apps.v1.Deployment(find('Deployment', name) as never);
    const pod = deployment.spec!.template.spec!;
    const [container] = pod.containers;
    expect(container!.image).toBe(`localhost/beedesk-${name}:latest`);
    expect(container!.readinessProbe?.httpGet?.path).toBe('/health/ready');
    expect(container!.livenessProbe?.httpGet?.path).toBe('/health/live');
    expect(pod.securityContext?.runAsNonRoot).toBe(true);
    const service = find('Service', name);
    expect((service.spec as { selector: unknown }).selector).toEqual(deployment.spec!.selector.matchLabels);
    expect((find('PodDisruptionBudget', name).spec as { selector: unknown }).selector).toEqual(deployment.spec!.selector);
  },
);

it('stateless services scale on CPU, inference on consumer lag (KEDA)', () => {
  for (const name of SERVICES.filter((s) => s !== 'inference')) {
    const hpa = new autoscaling.v2.HorizontalPodAutoscaler(find('HorizontalPodAutoscaler', name) as never);
    expect(hpa.spec!.metrics![0]!.resource?.name).toBe('cpu');
  }
  expect(manifests.some((m) => m.kind === 'HorizontalPodAutoscaler' && m.metadata.name === 'inference')).toBe(false);
  const scaled = new kedaSh.v1alpha1.ScaledObject(find('ScaledObject', 'inference') as never);
  expect(scaled.spec.triggers[0]!.type).toBe('kafka');
  expect(scaled.spec.triggers[0]!.metadata).toMatchObject({ topic: 'inference.requests', consumerGroup: 'beedesk-inference' });
});

it('Kafka (Strimzi): three KRaft nodes, the topic replicated 3 times with min.insync.replicas 2', () => {
  const pool = find('KafkaNodePool', 'dual').spec as { replicas: number; roles: string[] };
  expect(pool.replicas).toBe(3);
  expect(pool.roles.sort()).toEqual(['broker', 'controller']);
  const kafka = find('Kafka', 'beedesk').spec as { kafka: { config: Record<string, number> } };
  expect(kafka.kafka.config).toMatchObject({ 'default.replication.factor': 3, 'min.insync.replicas': 2 });
  const topic = find('KafkaTopic', 'inference.requests');
  expect(topic.spec).toMatchObject({ replicas: 3, config: { 'min.insync.replicas': 2 } });
  const config = find('ConfigMap', 'beedesk') as unknown as { data: Record<string, string> };
  expect(config.data.KAFKA_PARTITIONS).toBe(String(topic.spec!.partitions));
});

it('Redis Cluster (operator resource): three masters with a replica each', () => {
  const redis = find('RedisCluster', 'beedesk-redis').spec as {
    clusterSize: number;
    redisLeader: { replicas: number };
    redisFollower: { replicas: number };
  };
  expect(redis).toMatchObject({ clusterSize: 3, redisLeader: { replicas: 3 }, redisFollower: { replicas: 3 } });
});
