import type Redis from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';

/** A planted string (an id or a text) that turned up where another tenant's data lives. */
export interface StoreFinding {
  where: string;
  rule: 'untagged-key' | 'foreign-id-in-key' | 'foreign-data-in-value' | 'no-tenant' | 'tenant-mismatch';
  detail: string;
}

/** Per tenant: every id and text planted in its data. */
export type PlantedByTenant = Record<string, readonly string[]>;

const tagOf = (key: string): string | null => /\{([^}]+)\}/.exec(key)?.[1] ?? null;

const foreignIn = (text: string, owner: string | null, planted: PlantedByTenant): [string, string][] =>
  Object.entries(planted).flatMap(([tenant, values]) =>
    tenant === owner ? [] : values.filter((v) => text.includes(v)).map((v): [string, string] => [tenant, v]),
  );

/** Everything a key holds, as one string to search (never modified: read-only commands). */
async function contentOf(redis: Redis, key: string): Promise<string> {
  switch (await redis.type(key)) {
    case 'string':
      return (await redis.get(key)) ?? '';
    case 'hash':
      return JSON.stringify(await redis.hgetall(key));
    case 'list':
      return JSON.stringify(await redis.lrange(key, 0, -1));
    case 'set':
      return JSON.stringify(await redis.smembers(key));
    case 'zset':
      return JSON.stringify(await redis.zrange(key, 0, -1));
    case 'stream':
      return JSON.stringify(await redis.xrange(key, '-', '+'));
    default:
      return '';
  }
}

/**
 * SCANs the run's keys: each must carry a tenant hash tag, no key may name another tenant's id,
 * and no value may hold another tenant's ids or texts.
 */
export async function auditRedis(
  redis: Redis,
  prefix: string,
  planted: PlantedByTenant,
): Promise<{ keys: number; findings: StoreFinding[] }> {
  const findings: StoreFinding[] = [];
  let keys = 0;
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    for (const key of batch) {
      keys++;
      const tag = tagOf(key);
      if (!tag) findings.push({ where: key, rule: 'untagged-key', detail: 'no {tenant} hash tag' });
      for (const [tenant, value] of foreignIn(key, tag, planted))
        findings.push({ where: key, rule: 'foreign-id-in-key', detail: `${tenant}'s ${value}` });
      const content = await contentOf(redis, key);
      for (const [tenant, value] of foreignIn(content, tag, planted))
        findings.push({ where: key, rule: 'foreign-data-in-value', detail: `${tenant}'s ${value}` });
    }
  } while (cursor !== '0');
  return { keys, findings };
}

/**
 * Reads every message of the run's topic (own consumer group, from the beginning): each must carry
 * its tenant in the `tenant` header, in its key (`<tenant>/<session>`) and in its body, all the
 * same, and hold nothing of another tenant.
 */
export async function auditKafka(
  brokers: string[],
  topic: string,
  groupId: string,
  expected: number,
  planted: PlantedByTenant,
  timeoutMs = 30_000,
): Promise<{ messages: number; byTenant: Record<string, number>; findings: StoreFinding[] }> {
  const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId });
  const findings: StoreFinding[] = [];
  const byTenant: Record<string, number> = {};
  let messages = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${messages} of ${expected} messages in ${timeoutMs} ms`)), timeoutMs);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          messages++;
          const where = `${topic}[${partition}]@${message.offset}`;
          const header = message.headers?.tenant?.toString() ?? null;
          const key = message.key?.toString() ?? '';
          const body = message.value?.toString() ?? '';
          let bodyTenant: unknown = null;
          try {
            bodyTenant = (JSON.parse(body) as { tenantId?: unknown }).tenantId ?? null;
          } catch {
            // a body that is not JSON has no tenant: reported below
          }
          if (!header) findings.push({ where, rule: 'no-tenant', detail: 'no tenant header' });
          if (header && (!key.startsWith(`${header}/`) || bodyTenant !== header)) {
            findings.push({ where, rule: 'tenant-mismatch', detail: `header ${header}, key ${key}, body ${String(bodyTenant)}` });
          }
          if (header) byTenant[header] = (byTenant[header] ?? 0) + 1;
          for (const [tenant, value] of foreignIn(`${key} ${body}`, header, planted))
            findings.push({ where, rule: 'foreign-data-in-value', detail: `${tenant}'s ${value}` });
          if (messages >= expected) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  // The audit's consumer group is this run's own: leave nothing behind on the shared broker.
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteGroups([groupId]).catch(() => undefined);
  await admin.disconnect();
  return { messages, byTenant, findings };
}
