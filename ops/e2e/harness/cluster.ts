import type { Role } from '@beedesk/runtime';
import { BeedeskClient } from '@beedesk/sdk';
import { Kafka, logLevel } from 'kafkajs';
import { Cluster, SERVICE_ORDER, type ServiceName } from '../../src/cluster';
import { mintToken } from '@beedesk/gateway';

export const E2E_JWT_SECRET = 'e2e-jwt-secret-0123456789';
export const E2E_INTERNAL_SECRET = 'e2e-internal-secret-0123456789';

export interface E2EEnvironment {
  cluster: Cluster;
  env: NodeJS.ProcessEnv;
  gatewayUrl: string;
  keyPrefix: string;
  topic: string;
  token(tenant: string, user: string, ...roles: Role[]): Promise<string>;
  client(token?: string): BeedeskClient;
  /** Messages produced to this scenario's topic so far (sum of partition high-water marks). */
  producedMessages(): Promise<number>;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the e2e suite through jest (its global setup provides Redis and Kafka).`);
  return value;
}

/**
 * A real-mode cluster for one scenario: every service its own process, real Redis and Kafka, its
 * own ports, Redis key prefix, Kafka topic and consumer group so scenarios never see each other.
 */
/**
 * Every e2e port is shifted by E2E_PORT_OFFSET (default 0), so two checkouts can run the suite side by
 * side on one machine without their scenarios' ports colliding.
 */
export function e2ePort(port: number): number {
  return port + Number(process.env.E2E_PORT_OFFSET ?? 0);
}

export function e2eEnvironment(scenario: string, firstPort: number): E2EEnvironment {
  const portBase = e2ePort(firstPort);
  const runId = required('E2E_RUN_ID');
  const keyPrefix = `${runId}-${scenario}`.slice(0, 32);
  const topic = `inference.requests.${runId}.${scenario}`;
  const env: NodeJS.ProcessEnv = {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'info',
    REDIS_URL: required('E2E_REDIS_URL'),
    KAFKA_BROKERS: required('E2E_KAFKA_BROKERS'),
    REDIS_KEY_PREFIX: keyPrefix,
    KAFKA_TOPIC: topic,
    KAFKA_GROUP_ID: `group-${runId}-${scenario}`,
    KAFKA_PARTITIONS: '6',
    JWT_SECRET: E2E_JWT_SECRET,
    INTERNAL_SECRET: E2E_INTERNAL_SECRET,
    SHUTDOWN_TIMEOUT_MS: '20000',
  };
  const ports = Object.fromEntries(SERVICE_ORDER.map((name, i) => [name, portBase + (name === 'gateway' ? 0 : i + 1)])) as Record<
    ServiceName,
    number
  >;
  const cluster = new Cluster({ env, ports, echo: process.env.E2E_ECHO === '1' });
  const gatewayUrl = cluster.urlOf('gateway');
  return {
    cluster,
    env,
    gatewayUrl,
    keyPrefix,
    topic,
    token: (tenant, user, ...roles) => mintToken({ tenant, user, roles: roles.length ? roles : ['customer'], secret: E2E_JWT_SECRET }),
    client: (token) => new BeedeskClient({ url: gatewayUrl, token }),
    producedMessages: async () => {
      const kafka = new Kafka({ brokers: env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      try {
        const offsets = await admin.fetchTopicOffsets(topic);
        return offsets.reduce((sum, p) => sum + Number(p.high), 0);
      } finally {
        await admin.disconnect();
      }
    },
  };
}

/** Raw GraphQL over HTTP, for asserting status codes and error bodies exactly. */
export async function postGraphQL(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] } }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as never };
}
