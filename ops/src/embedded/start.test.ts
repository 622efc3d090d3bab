import pino from 'pino';
import { BeedeskClient } from '@beedesk/sdk';
import { mintToken } from '@beedesk/gateway';
import { startEmbedded, type Embedded } from './start';

// The embedded default (`npm start`) on free ports: in-process Redis and queue, demo data seeded. Persisted-only
// (GATEWAY_PERSISTED_ONLY=true npm start): the seeding and the SDK send manifest documents only.
describe('embedded default', () => {
  let embedded: Embedded;
  beforeAll(async () => {
    embedded = await startEmbedded({
      logger: pino({ level: 'silent' }),
      ports: { gateway: 0, tenant: 0, session: 0, answer: 0, inference: 0, handoff: 0 },
      jwtSecret: 'embedded-test-secret-123',
      persistedOnly: true,
    });
  }, 60_000);
  afterAll(() => embedded?.close());

  it('seeds both demo tenants and answers in English and Chinese', async () => {
    expect(embedded.seeded).toEqual([
      { tenant: 'demo-bank', articles: 77 },
      { tenant: 'demo-cn', articles: 20 },
    ]);
    expect(embedded.demoPages.map((url) => new URL(url).pathname)).toEqual(['/demo/bank', '/demo/cn']);
    const token = (tenant: string) => mintToken({ tenant, user: 'u', roles: ['customer'], secret: 'embedded-test-secret-123' });
    const bank = new BeedeskClient({ url: embedded.gatewayUrl, token: await token('demo-bank') });
    const session = await bank.startSession();
    const { answer } = await bank.ask(session.id, "I still haven't received my new card");
    const answered = await bank.waitForAnswer(answer.id);
    expect(answered.sources[0]?.id).toBe('bank-card-arrival');
    // The stand-in runs the answer data's Lua too: the first streamed piece stamped firstTokenAt.
    expect(Date.parse(answered.firstTokenAt ?? '')).toBeLessThanOrEqual(Date.parse(answered.completedAt ?? ''));

    const cn = new BeedeskClient({ url: embedded.gatewayUrl, token: await token('demo-cn') });
    const cnSession = await cn.startSession();
    const cnAnswer = await cn.waitForAnswer((await cn.ask(cnSession.id, '我想退货，怎么操作？')).answer.id);
    expect(cnAnswer.status).toBe('DONE');
    expect(cnAnswer.sources[0]?.id).toMatch(/^cn-/);
  }, 60_000);
});
