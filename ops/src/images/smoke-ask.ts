import { BeedeskClient } from '@beedesk/sdk';
import Redis from 'ioredis';
import { mintToken } from '@beedesk/gateway';

// The question half of `npm run images:smoke` (ops/images/smoke.sh starts the containers): through the
// gateway in a container, an admin adds an article, a customer asks, and the answer must come back
// DONE from the inference container. Then this run's Redis keys are deleted (its own prefix only).
async function main(): Promise<void> {
  const [gatewayUrl, secret, tenant, redisUrl, keyPrefix] = process.argv.slice(2);
  if (!gatewayUrl || !secret || !tenant || !redisUrl || !keyPrefix) {
    throw new Error('usage: smoke-ask <gatewayUrl> <jwtSecret> <tenant> <redisUrl> <keyPrefix>');
  }
  const started = Date.now();
  const client = async (user: string, role: 'admin' | 'customer'): Promise<BeedeskClient> =>
    new BeedeskClient({ url: gatewayUrl, token: await mintToken({ tenant, user, roles: [role], secret }) });
  const redis = new Redis(redisUrl);
  try {
    const admin = await client('smoke-admin', 'admin');
    await admin.upsertArticle({
      id: 'card-delivery',
      title: 'Card delivery',
      body: 'New cards arrive within 7 working days.',
      questions: ['how long does card delivery take'],
    });
    const customer = await client('smoke-customer', 'customer');
    const session = await customer.startSession();
    const receipt = await customer.ask(session.id, 'How long does card delivery take?');
    const answer = await customer.waitForAnswer(receipt.answer.id, { timeoutMs: 60_000 });
    process.stdout.write(`answer ${answer.status} in ${Date.now() - started} ms: ${answer.text.slice(0, 120)}\n`);
    if (answer.status !== 'DONE') process.exitCode = 1;
  } finally {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${keyPrefix}:*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`images smoke test failed: ${(error as Error).message}\n`);
  process.exit(1);
});
