import { connectRedis, type Redis } from '@beedesk/runtime';
import { BeedeskClient, type Answer } from '@beedesk/sdk';
import { seedDemoTenants } from '../../src/demo/seed';
import type { DemoTenant } from '../../src/demo/data';
import { e2eEnvironment, E2E_JWT_SECRET } from '../harness/cluster';
import { codeOf } from '../harness/error-code';

// deleteMyData and eraseTenant through the real gateway, real services (own processes), real
// Kafka and real Redis; what is left is checked by SCANning the run's keys in Redis itself.
const e2e = e2eEnvironment('erasure', 15700);
const TENANT_A = 'erase-a';
const TENANT_B = 'erase-b';
const ARTICLES = [
  {
    id: 'er-hours',
    title: 'Opening hours',
    body: 'Our stores are open 9:00 to 18:00, Monday to Saturday.',
    questions: ['When are you open?', 'What are your opening hours?', 'Are you open on Saturday?', 'What time do the stores close?'],
    locale: 'en',
  },
  {
    id: 'er-delivery',
    title: 'Delivery times',
    body: 'Orders arrive within 3 working days.',
    questions: ['How long does delivery take?', 'When will my order arrive?', 'My parcel has not arrived yet', 'Where is my order?'],
    locale: 'en',
  },
  {
    id: 'er-password',
    title: 'Resetting your password',
    body: 'Use "Forgot password" on the login page.',
    questions: ['I forgot my password', 'How do I reset my password?', 'I cannot log in', 'Change my login password'],
    locale: 'en',
  },
];
const tenants: DemoTenant[] = [
  { id: TENANT_A, name: 'Erasure shop A', articles: ARTICLES },
  { id: TENANT_B, name: 'Erasure shop B', articles: ARTICLES },
];

let redis: Redis;

beforeAll(async () => {
  await e2e.cluster.startAll();
  await seedDemoTenants(e2e.gatewayUrl, { tenants, jwtSecret: E2E_JWT_SECRET });
  redis = await connectRedis(e2e.env.REDIS_URL!);
}, 120_000);

afterAll(async () => {
  // Only this run's keys (its own prefix); never anything else.
  for (const [key] of await scan(`${e2e.keyPrefix}:*`)) await redis.del(key);
  redis?.disconnect();
  await e2e.cluster.stopAll();
});

/** Every key matching `pattern` with its value as text, whatever its type, read with SCAN. */
async function scan(pattern: string): Promise<[string, string][]> {
  const found: [string, string][] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      let value = '';
      if (type === 'string') value = (await redis.get(key)) ?? '';
      else if (type === 'hash') value = JSON.stringify(await redis.hgetall(key));
      else if (type === 'list') value = (await redis.lrange(key, 0, -1)).join('\n');
      else if (type === 'set') value = (await redis.smembers(key)).join('\n');
      else if (type === 'zset') value = (await redis.zrange(key, 0, -1)).join('\n');
      if (type !== 'none') found.push([key, value]);
    }
  } while (cursor !== '0');
  return found;
}

interface Asked {
  sessionId: string;
  answers: Answer[];
  texts: string[];
}

/** Starts (or resumes) a session and asks each question with a clientMessageId, waiting for DONE. */
async function askAll(client: BeedeskClient, marker: string, questions: string[]): Promise<Asked> {
  const session = await client.startSession();
  const answers: Answer[] = [];
  const texts: string[] = [];
  for (const [i, question] of questions.entries()) {
    // The marker makes this user's text recognisable anywhere in Redis.
    const text = `${question} (${marker}${i})`;
    const { answer } = await client.ask(session.id, text, `${marker}-msg-${i}`);
    answers.push(await client.waitForAnswer(answer.id, { timeoutMs: 30_000 }));
    texts.push(text);
  }
  return { sessionId: session.id, answers, texts };
}

describe('erasure (real gateway, services, Kafka and Redis)', () => {
  let u: BeedeskClient;
  let v: BeedeskClient;
  let w: BeedeskClient;
  let uData: Asked;
  let vData: Asked;
  let wData: Asked;

  beforeAll(async () => {
    u = e2e.client(await e2e.token(TENANT_A, 'user-u@example.com', 'customer'));
    v = e2e.client(await e2e.token(TENANT_A, 'user-v', 'customer'));
    // The same user id as U, in the other tenant: must survive U's erasure in A.
    w = e2e.client(await e2e.token(TENANT_B, 'user-u@example.com', 'customer'));
    [uData, vData, wData] = await Promise.all([
      askAll(u, 'zqumark', ['When are you open?', 'How do I reset my password?']),
      askAll(v, 'zqvmark', ['Where is my order?']),
      askAll(w, 'zqwmark', ['When will my order arrive?']),
    ]);
    for (const answer of [...uData.answers, ...vData.answers, ...wData.answers]) expect(answer.status).toBe('DONE');
  }, 120_000);

  it('deleteMyData leaves no key of the user behind, while an answer is still being produced', async () => {
    // One more question that is queued or being answered while the data is erased.
    const inFlight = await u.ask(uData.sessionId, 'Are you open on Saturday? (zqumark9)', 'zqumark-msg-9');
    const erased = await u.deleteMyData();
    expect(erased.sessions).toBe(1);
    expect(erased.answers).toBe(3);
    expect(erased.keys).toBeGreaterThanOrEqual(8);

    // Give the worker time to try (and fail) to write the in-flight answer.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const uIds = [uData.sessionId, ...uData.answers.map((a) => a.id), inFlight.answer.id, 'user-u@example.com', 'zqumark'];
    const tenantA = await scan(`${e2e.keyPrefix}:{${TENANT_A}}:*`);
    const leftovers = tenantA.filter(([key, value]) => uIds.some((id) => key.includes(id) || value.includes(id)));
    expect(leftovers).toEqual([]);
    expect(tenantA.some(([key]) => key.includes(vData.sessionId))).toBe(true);

    expect(await codeOf(u.session(uData.sessionId))).toBe('NOT_FOUND');
    expect(await codeOf(u.answer(uData.answers[0]!.id))).toBe('NOT_FOUND');
    expect(await u.deleteMyData()).toEqual({ sessions: 0, answers: 0, keys: 0 });

    // V in the same tenant and the same user id in tenant B are untouched.
    const vSession = await v.session(vData.sessionId);
    expect(vSession?.turns.map((t) => t.text)).toEqual([vData.texts[0], vData.answers[0]!.text]);
    expect((await v.answer(vData.answers[0]!.id))?.status).toBe('DONE');
    const wSession = await w.session(wData.sessionId);
    expect(wSession?.turns.map((t) => t.role)).toEqual(['USER', 'ASSISTANT']);
    expect((await w.answer(wData.answers[0]!.id))?.text).toBe(wData.answers[0]!.text);
  });

  it('eraseTenant: admin only, own tenant only; removes every key of the tenant and nothing of another', async () => {
    const adminA = e2e.client(await e2e.token(TENANT_A, 'admin-a', 'admin'));
    expect(await codeOf(v.eraseTenant(TENANT_A))).toBe('FORBIDDEN');
    expect(await codeOf(adminA.eraseTenant(TENANT_B))).toBe('BAD_USER_INPUT');
    const keysOfB = (await scan(`${e2e.keyPrefix}:{${TENANT_B}}:*`)).length;
    expect(keysOfB).toBeGreaterThan(0);

    const erased = await adminA.eraseTenant(TENANT_A);
    expect(erased.articles).toBe(ARTICLES.length);
    expect(erased.sessions).toBeGreaterThanOrEqual(1);
    expect(erased.answers).toBeGreaterThanOrEqual(1);
    expect(erased.keys).toBeGreaterThan(erased.articles + erased.sessions + erased.answers);
    expect(await scan(`${e2e.keyPrefix}:{${TENANT_A}}:*`)).toEqual([]);

    // Tenant B: every key still there, its user's history and answer still served.
    expect((await scan(`${e2e.keyPrefix}:{${TENANT_B}}:*`)).length).toBeGreaterThanOrEqual(keysOfB);
    expect((await w.session(wData.sessionId))?.turns).toHaveLength(2);
    expect((await e2e.client(await e2e.token(TENANT_B, 'admin-b', 'admin')).tenantWithArticles()).articles).toHaveLength(ARTICLES.length);

    // Tenant A still works, empty: a question gets the not-sure answer of an empty knowledge base.
    expect((await adminA.tenantWithArticles()).articles).toEqual([]);
    const { answer } = await v.ask((await v.startSession()).id, 'When are you open?');
    const done = await v.waitForAnswer(answer.id, { timeoutMs: 30_000 });
    expect(done.status).toBe('DONE');
    expect(done.needsHuman).toBe(true);
    expect(done.sources).toEqual([]);
  });
});
