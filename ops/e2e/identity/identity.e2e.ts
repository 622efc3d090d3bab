import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BeedeskClient } from '@beedesk/sdk';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';
import WebSocket from 'ws';
import { SERVICE_ORDER } from '../../src/cluster';
import { e2eEnvironment, postGraphQL } from '../harness/cluster';
import { codeOf } from '../harness/error-code';

// Identity at the gateway, through the real gateway and services on real Redis: RS256 tokens from an
// identity provider's JWKS (a loopback endpoint here) beside HS256 dev tokens, and partner API keys
// created, used and revoked end to end.
const e2e = e2eEnvironment('identity', 14900);
const TENANT = 'idp-co';
const NO_SESSION = '00000000-0000-0000-0000-000000000000';

/** The identity provider's published keys, served on loopback. */
let jwksServer: Server;
let jwksKeys: JWK[] = [];
let idpKey: { privateKey: KeyLike; kid: string };

const idpToken = (claims: Record<string, unknown>, key = idpKey) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: key.kid }).setIssuedAt().setExpirationTime('5m').sign(key.privateKey);

let admin: BeedeskClient;
const partner = (apiKey: string, options: { webSocket?: boolean } = {}) =>
  new BeedeskClient({ url: e2e.gatewayUrl, apiKey, ...(options.webSocket ? { webSocketImpl: WebSocket } : {}) });

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  idpKey = { privateKey, kid: 'idp-2026-01' };
  jwksKeys = [{ ...(await exportJWK(publicKey)), kid: idpKey.kid, alg: 'RS256', use: 'sig' }];
  jwksServer = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: jwksKeys })),
  );
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;

  await Promise.all(SERVICE_ORDER.filter((name) => name !== 'gateway').map((name) => e2e.cluster.start(name)));
  // JWT_SECRET (HS256 dev tokens) stays configured beside the JWKS; no refetch cooldown so the last test sees a down endpoint at once.
  await e2e.cluster.start('gateway', { JWT_JWKS_URL: jwksUrl, JWT_JWKS_TIMEOUT_MS: '1000', JWT_JWKS_COOLDOWN_MS: '0' });
  admin = e2e.client(await e2e.token(TENANT, 'admin-1', 'admin'));
  await admin.updateTenant('IdP Partner Co');
}, 120_000);

afterAll(async () => {
  await e2e.cluster.stopAll();
  jwksServer.closeAllConnections();
  await new Promise((resolve) => jwksServer.close(resolve));
});

describe('identity at the gateway (real gateway, services and Redis)', () => {
  it('accepts an RS256 token verified with the identity provider’s JWKS, and refuses one from an unpublished key', async () => {
    const viaIdp = e2e.client(await idpToken({ sub: 'idp-user', tid: TENANT, roles: ['agent'] }));
    await expect(viaIdp.tenant()).resolves.toEqual({ id: TENANT, name: 'IdP Partner Co' });

    const stranger = await generateKeyPair('RS256');
    const forged = await idpToken({ sub: 'x', tid: TENANT, roles: ['admin'] }, { privateKey: stranger.privateKey, kid: 'not-published' });
    const refused = await postGraphQL(e2e.gatewayUrl, { query: '{ tenant { id } }' }, { authorization: `Bearer ${forged}` });
    expect(refused.status).toBe(401);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('lets an admin create a key whose secret is shown once; a partner uses it until it is revoked', async () => {
    const created = await admin.createApiKey('CRM sync', ['AGENT'], { persistedOnly: false });
    expect(created.secret).toMatch(new RegExp(`^bdk_${TENANT}_[A-Za-z0-9_-]{43}$`));
    expect(created.apiKey).toMatchObject({
      name: 'CRM sync',
      roles: ['AGENT'],
      persistedOnly: false,
      createdBy: 'admin-1',
      revokedAt: null,
    });
    expect(created.secret.startsWith(created.apiKey.prefix)).toBe(true);
    const listed = await admin.apiKeys();
    expect(listed.map((key) => key.id)).toContain(created.apiKey.id);
    expect(JSON.stringify(listed)).not.toContain(created.secret.slice(`bdk_${TENANT}_`.length));

    // HTTP (x-api-key) and graphql-ws (connectionParams.apiKey): over graphql-ws the key is accepted, so the
    // subscription reaches the answer subgraph, which answers NOT_FOUND for a session that does not exist.
    await expect(partner(created.secret).tenant()).resolves.toEqual({ id: TENANT, name: 'IdP Partner Co' });
    const overWs = partner(created.secret, { webSocket: true });
    expect(await codeOf(overWs.answerStream(NO_SESSION).next())).toBe('NOT_FOUND');
    await overWs.close();

    await expect(admin.revokeApiKey(created.apiKey.id)).resolves.toBe(true);
    const afterRevoke = await postGraphQL(e2e.gatewayUrl, { query: '{ tenant { name } }' }, { 'x-api-key': created.secret });
    expect(afterRevoke.status).toBe(401);
    expect(afterRevoke.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await codeOf(partner(created.secret).tenant())).toBe('UNAUTHENTICATED');
    const revokedWs = partner(created.secret, { webSocket: true });
    expect(await codeOf(revokedWs.answerStream(NO_SESSION).next())).toBe('UNAUTHENTICATED');
    await revokedWs.close();
    expect((await admin.apiKeys()).find((key) => key.id === created.apiKey.id)?.revokedAt).toEqual(expect.any(String));
    await expect(admin.revokeApiKey(created.apiKey.id)).resolves.toBe(false);
  });

  it('refuses key management to customers and agents (FORBIDDEN) and bad input (BAD_USER_INPUT)', async () => {
    const customer = e2e.client(await e2e.token(TENANT, 'cust-1', 'customer'));
    const agent = e2e.client(await e2e.token(TENANT, 'agent-1', 'agent'));
    expect(await codeOf(customer.createApiKey('mine', ['ADMIN']))).toBe('FORBIDDEN');
    expect(await codeOf(agent.createApiKey('mine', ['ADMIN']))).toBe('FORBIDDEN');
    expect(await codeOf(customer.apiKeys())).toBe('FORBIDDEN');
    expect(await codeOf(customer.revokeApiKey('whatever'))).toBe('FORBIDDEN');
    expect(await codeOf(admin.createApiKey('   ', ['AGENT']))).toBe('BAD_USER_INPUT');
    expect(await codeOf(admin.createApiKey('no roles', []))).toBe('BAD_USER_INPUT');
    // A customer-role key cannot manage keys either.
    const customerKey = await admin.createApiKey('widget backend', ['CUSTOMER'], { persistedOnly: false });
    expect(await codeOf(partner(customerKey.secret).createApiKey('escalate', ['ADMIN']))).toBe('FORBIDDEN');
  });

  it('refuses a key whose tenant part was edited to another tenant, and a request with both a token and a key', async () => {
    const other = e2e.client(await e2e.token('other-co', 'admin-2', 'admin'));
    await other.updateTenant('Other Co');
    const created = await admin.createApiKey('tenant A key', ['ADMIN'], { persistedOnly: false });
    const edited = created.secret.replace(`bdk_${TENANT}_`, 'bdk_other-co_');
    const refused = await postGraphQL(e2e.gatewayUrl, { query: '{ tenant { name } }' }, { 'x-api-key': edited });
    expect(refused.status).toBe(401);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const both = await postGraphQL(
      e2e.gatewayUrl,
      { query: '{ tenant { name } }' },
      { 'x-api-key': created.secret, authorization: `Bearer ${await e2e.token(TENANT, 'u', 'admin')}` },
    );
    expect(both.status).toBe(401);
    expect(both.body.errors?.[0]).toMatchObject({ message: expect.stringMatching(/not both/), extensions: { code: 'UNAUTHENTICATED' } });
  });

  it('never logs a key’s secret', () => {
    const logs = [...e2e.cluster.processes.values()].map((p) => p.output.join('')).join('');
    expect(logs).toMatch(/api key created/);
    expect(logs).not.toMatch(new RegExp(`bdk_${TENANT}_[A-Za-z0-9_-]{43}`));
  });

  it('answers UNAUTHENTICATED within the bound when the JWKS endpoint is down, and keeps serving HS256 tokens and keys', async () => {
    jwksServer.closeAllConnections();
    await new Promise((resolve) => jwksServer.close(resolve));
    const rotated = await generateKeyPair('RS256');
    const token = await idpToken({ sub: 'idp-user', tid: TENANT }, { privateKey: rotated.privateKey, kid: 'idp-2026-02' });
    const started = Date.now();
    const refused = await postGraphQL(e2e.gatewayUrl, { query: '{ tenant { id } }' }, { authorization: `Bearer ${token}` });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(refused.status).toBe(401);
    expect(refused.body.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/JWKS\) are unavailable/),
      extensions: { code: 'UNAUTHENTICATED' },
    });
    await expect(admin.tenant()).resolves.toMatchObject({ id: TENANT });
    const key = await admin.createApiKey('still works', ['AGENT'], { persistedOnly: false });
    await expect(partner(key.secret).tenant()).resolves.toMatchObject({ id: TENANT });
    expect(e2e.cluster.processes.get('gateway')?.child.exitCode).toBeNull();
  });
});
