import { VisitorTokens } from '@beedesk/gateway';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { e2eEnvironment, E2E_INTERNAL_SECRET } from '../harness/cluster';
import { adminQuery, allowOrigins, exchange, manifestIds, widgetCall } from '../widget/visitors';

// Web-widget visitors against the real gateway, services and Redis: a public widget key is exchanged
// only from an allowed origin, rate limited per key and per IP; the visitor token it gives is a customer
// of one tenant, works only from that origin, runs only the widget's persisted operations, and reaches
// nothing of another tenant or visitor. Planted words of tenant B never appear in anything A's visitors get.
const e2e = e2eEnvironment('visitors', 16230);
const base = e2e.gatewayUrl.replace(/\/graphql$/, '');
const A = 'visitor-a';
const B = 'visitor-b';
const SITE_A = 'https://shop-a.example';
const SITE_B = 'https://shop-b.example';
const B_SECRET_WORD = 'zanzibar-marmalade-4471';
const ids = manifestIds();
let keyA: string;
let keyB: string;
let bSession: string;
let bAnswer: string;

const visitorOf = async (key: string, origin: string, visitorId?: string) => {
  const answer = await exchange(base, origin, visitorId ? { key, visitorId } : { key });
  expect(answer.status).toBe(200);
  return { token: answer.body.token!, visitorId: answer.body.visitorId! };
};
const startSession = async (token: string, origin: string) => {
  const result = await widgetCall(base, token, origin, { documentId: ids['WidgetStartSession'] });
  expect(result.body.errors).toBeUndefined();
  return (result.body.data!['startSession'] as { id: string }).id;
};
const codeOf = (body: { errors?: { extensions?: { code?: string } }[] }) => body.errors?.[0]?.extensions?.code;

beforeAll(async () => {
  for (const name of ['tenant', 'session', 'answer', 'inference', 'handoff'] as const) await e2e.cluster.start(name);
  await e2e.cluster.start('gateway', { GATEWAY_RATE_LIMIT_WIDGET_IP: '0.01:30' });
  keyA = await allowOrigins(e2e.gatewayUrl, await e2e.token(A, 'admin', 'admin'), [SITE_A]);
  keyB = await allowOrigins(e2e.gatewayUrl, await e2e.token(B, 'admin', 'admin'), [SITE_B]);
  // Tenant B's visitor asks a question carrying B's secret word.
  const b = await visitorOf(keyB, SITE_B);
  bSession = await startSession(b.token, SITE_B);
  const asked = await widgetCall(base, b.token, SITE_B, {
    documentId: ids['WidgetAsk'],
    variables: { sessionId: bSession, text: `where is my ${B_SECRET_WORD}`, clientMessageId: 'b-1' },
  });
  bAnswer = (asked.body.data!['ask'] as { answer: { id: string } }).answer.id;
}, 120_000);

afterAll(() => e2e.cluster.stopAll());

describe('widget visitors (isolation)', () => {
  it('exchanges a widget key only for an allowed origin', async () => {
    const wrong = await exchange(base, 'https://evil.example', { key: keyA });
    expect(wrong.status).toBe(403);
    expect(codeOf(wrong.body)).toBe('ORIGIN_NOT_ALLOWED');
    expect(wrong.body.token).toBeUndefined();
    // The refused page cannot even read the answer.
    expect(wrong.headers.get('access-control-allow-origin')).toBeNull();
    // B's allowed origin does not open A's key either.
    expect((await exchange(base, SITE_B, { key: keyA })).status).toBe(403);
    const noOrigin = await exchange(base, null, { key: keyA });
    expect(codeOf(noOrigin.body)).toBe('ORIGIN_NOT_ALLOWED');
    for (const key of ['bdw_visitor-a_AAAAAAAAAAAAAAAAAAAAAA', 'nonsense', keyA.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))]) {
      const bad = await exchange(base, SITE_A, { key });
      expect([bad.status, codeOf(bad.body)]).toEqual([401, 'UNAUTHENTICATED']);
    }
    const ok = await exchange(base, SITE_A, { key: keyA });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(SITE_A);
    expect(ok.body.settings).toEqual({ themeColor: '#0b6e4f', greeting: '', position: 'BOTTOM_RIGHT' });
  });

  it('refuses an expired visitor token, and a visitor token from another origin', async () => {
    const tokens = new VisitorTokens(E2E_INTERNAL_SECRET);
    const anHourAgo = Math.floor(Date.now() / 1000) - 3600;
    const { token: expired } = await tokens.issue({ tenantId: A, userId: 'visitor:x', origin: SITE_A }, anHourAgo);
    const refused = await widgetCall(base, expired, SITE_A, { documentId: ids['WidgetStartSession'] });
    expect([refused.status, codeOf(refused.body)]).toEqual([401, 'UNAUTHENTICATED']);
    expect(refused.body.errors![0]!.message).toMatch(/expired/);

    const { token } = await visitorOf(keyA, SITE_A);
    const elsewhere = await widgetCall(base, token, 'https://evil.example', { documentId: ids['WidgetStartSession'] });
    expect([elsewhere.status, codeOf(elsewhere.body)]).toEqual([401, 'UNAUTHENTICATED']);
    // A token signed with another secret (not the gateway's) is no visitor token.
    const forged = await new VisitorTokens('someone-elses-secret-0123456789').issue({ tenantId: A, userId: 'visitor:x', origin: SITE_A });
    expect((await widgetCall(base, forged.token, SITE_A, { documentId: ids['WidgetStartSession'] })).status).toBe(401);
    // The widget endpoint takes visitor tokens only.
    const staff = await widgetCall(base, await e2e.token(A, 'admin', 'admin'), SITE_A, { documentId: ids['WidgetStartSession'] });
    expect([staff.status, codeOf(staff.body)]).toEqual([401, 'UNAUTHENTICATED']);
  });

  it('lets a visitor token run the widget’s persisted operations only: no staff operation, no free query', async () => {
    const { token } = await visitorOf(keyA, SITE_A);
    for (const name of ['CreateApiKey', 'TenantActivity', 'UpsertArticle', 'GetTenant', 'DeleteMyData']) {
      if (!ids[name]) continue;
      const refused = await widgetCall(base, token, SITE_A, { documentId: ids[name], variables: {} });
      expect([name, refused.status, codeOf(refused.body)]).toEqual([name, 400, 'PERSISTED_QUERY_NOT_IN_LIST']);
      expect(refused.body.data).toBeUndefined();
    }
    for (const query of [
      '{ tenant { apiKeys { id } widget { key } } }',
      'mutation { rotateWidgetKey { key } }',
      '{ ratedAnswers { id } }',
    ]) {
      for (const path of ['/widget/graphql', '/graphql']) {
        const refused = await widgetCall(base, token, SITE_A, { query }, path);
        expect([query, path, codeOf(refused.body)]).toEqual([query, path, 'PERSISTED_QUERY_NOT_IN_LIST']);
      }
    }
    // Over graphql-ws: the staff subscription is refused the same way.
    const socket = new WebSocket(e2e.gatewayUrl.replace(/^http/, 'ws'), 'graphql-transport-ws', { headers: { origin: SITE_A } });
    const messages: { type: string; payload?: unknown }[] = [];
    socket.on('message', (data) => messages.push(JSON.parse(String(data)) as never));
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
    for (let i = 0; i < 50 && !messages.some((m) => m.type === 'connection_ack'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(messages[0]?.type).toBe('connection_ack');
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '', documentId: ids['TenantActivity'] } }));
    for (let i = 0; i < 50 && messages.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(JSON.stringify(messages[1])).toContain('PERSISTED_QUERY_NOT_IN_LIST');
    socket.close();
    // A visitor socket from another origin is closed at connection_init.
    const foreign = new WebSocket(e2e.gatewayUrl.replace(/^http/, 'ws'), 'graphql-transport-ws', {
      headers: { origin: 'https://evil.example' },
    });
    await new Promise((resolve) => foreign.once('open', resolve));
    foreign.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
    const code = await new Promise<number>((resolve) => foreign.once('close', resolve));
    expect(code).toBe(4401);
  });

  it('refuses another tenant’s and another visitor’s session and answer ids, and nothing of them leaks', async () => {
    const a = await visitorOf(keyA, SITE_A);
    const aSession = await startSession(a.token, SITE_A);
    expect(aSession).not.toBe(bSession);
    const bodies: string[] = [];
    const call = async (name: string, variables: Record<string, unknown>) => {
      const result = await widgetCall(base, a.token, SITE_A, { documentId: ids[name], variables });
      bodies.push(result.text);
      return codeOf(result.body);
    };
    expect(await call('WidgetAsk', { sessionId: bSession, text: 'intruder', clientMessageId: 'i-1' })).toBe('NOT_FOUND');
    expect(await call('WidgetAnswer', { id: bAnswer })).toBe('NOT_FOUND');
    expect(await call('WidgetRateAnswer', { answerId: bAnswer, helpful: false })).toBe('NOT_FOUND');
    // Another visitor of B (same tenant as the session) is refused too.
    const otherB = await visitorOf(keyB, SITE_B);
    const other = await widgetCall(base, otherB.token, SITE_B, { documentId: ids['WidgetAnswer'], variables: { id: bAnswer } });
    expect(codeOf(other.body)).toBe('FORBIDDEN');
    bodies.push(other.text);
    // The answer stream of B's session, over SSE.
    const stream = await fetch(`${base}/widget/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${a.token}`, origin: SITE_A },
      body: JSON.stringify({ documentId: ids['WidgetAnswerStream'], variables: { sessionId: bSession } }),
    });
    const text = await stream.text();
    bodies.push(text);
    expect(text).toContain('FORBIDDEN');
    for (const body of bodies) expect(body).not.toContain(B_SECRET_WORD);
    // B's admin sees B's visitor's question; A's visitor never did.
    const bAdmin = await e2e.token(B, 'admin', 'admin');
    const seen = await adminQuery<{ answer: { question: string } }>(
      e2e.gatewayUrl,
      bAdmin,
      'query($id: ID!) { answer(id: $id) { question } }',
      { id: bAnswer },
    );
    expect(seen.answer.question).toContain(B_SECRET_WORD);
  });

  it('keeps an anonymous visitor’s conversation with their visitor id, and follows an identity-verified user across devices', async () => {
    const first = await visitorOf(keyA, SITE_A);
    const session = await startSession(first.token, SITE_A);
    const again = await visitorOf(keyA, SITE_A, first.visitorId);
    expect(await startSession(again.token, SITE_A)).toBe(session);
    const stranger = await visitorOf(keyA, SITE_A);
    expect(await startSession(stranger.token, SITE_A)).not.toBe(session);

    const secret = (
      await adminQuery<{ rotateWidgetIdentitySecret: string }>(
        e2e.gatewayUrl,
        await e2e.token(A, 'admin', 'admin'),
        'mutation { rotateWidgetIdentitySecret }',
      )
    ).rotateWidgetIdentitySecret;
    const signed = (sub: string, key = secret) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(sub)
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(new TextEncoder().encode(key));
    const laptop = await exchange(base, SITE_A, { key: keyA, identityToken: await signed('customer-42') });
    const phone = await exchange(base, SITE_A, { key: keyA, identityToken: await signed('customer-42') });
    expect(laptop.body.visitorId).toBeNull();
    const onLaptop = await startSession(laptop.body.token!, SITE_A);
    expect(await startSession(phone.body.token!, SITE_A)).toBe(onLaptop);
    const forged = await exchange(base, SITE_A, {
      key: keyA,
      identityToken: await signed('customer-42', 'not-the-tenants-secret-0123456789abcdef'),
    });
    expect([forged.status, codeOf(forged.body)]).toEqual([401, 'UNAUTHENTICATED']);
  });

  it('rate limits exchanges per client IP (and per key)', async () => {
    // The gateway runs with GATEWAY_RATE_LIMIT_WIDGET_IP=0.01:30: the IP's bucket empties within this test.
    let limited: Awaited<ReturnType<typeof exchange>> | null = null;
    for (let i = 0; i < 40 && !limited; i++) {
      const answer = await exchange(base, SITE_A, { key: keyA });
      if (answer.status === 429) limited = answer;
    }
    expect(limited).not.toBeNull();
    expect(codeOf(limited!.body)).toBe('RATE_LIMITED');
    expect(limited!.body.errors![0]!.extensions!.scope).toBe('ip');
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
