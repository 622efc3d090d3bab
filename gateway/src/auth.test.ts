import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connectRedis, type Redis } from '@beedesk/runtime';
import { ApiKeyRepository } from '@beedesk/tenant/data';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type JWK, type KeyLike } from 'jose';
import { createAuthenticator, parseRoleMap } from './auth';
import type { AuthResult } from './caller';

const secret = 'unit-test-secret-123456';
const sign = (claims: Record<string, unknown>, { key = secret, exp = '1h', iss }: { key?: string; exp?: string; iss?: string } = {}) => {
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime(exp);
  if (iss) jwt = jwt.setIssuer(iss);
  return jwt.sign(new TextEncoder().encode(key));
};
const refused = (message: RegExp) => ({ ok: false, message: expect.stringMatching(message) });

describe('JWT authentication (HS256)', () => {
  const authenticate = createAuthenticator({ secret, issuer: 'beedesk', clockToleranceSeconds: 0 });

  it('turns sub/tid/roles into a tenant context', async () => {
    const token = await sign({ sub: 'alice', tid: 'demo-bank', roles: ['agent', 'agent'] }, { iss: 'beedesk' });
    await expect(authenticate({ authorization: `Bearer ${token}` }, 'req-1')).resolves.toEqual({
      ok: true,
      caller: { tenantId: 'demo-bank', userId: 'alice', roles: ['agent'], requestId: 'req-1' },
      expiresAt: expect.any(Number),
      credential: { kind: 'jwt' },
    });
  });

  it.each([
    ['no header', async () => undefined, /Missing credentials/],
    ['an empty header', async () => '  ', /Missing credentials/],
    ['not bearer', async () => 'Basic abc', /Malformed/],
    ['garbage', async () => 'Bearer abc.def.ghi', /not valid/],
    [
      'foreign key',
      async () => `Bearer ${await sign({ sub: 'a', tid: 't' }, { key: 'another-secret-12345', iss: 'beedesk' })}`,
      /not valid/,
    ],
    ['expired', async () => `Bearer ${await sign({ sub: 'a', tid: 't' }, { exp: '-1m', iss: 'beedesk' })}`, /expired/],
    [
      'wrong issuer',
      async () => `Bearer ${await sign({ sub: 'a', tid: 't' }, { iss: 'other' })}`,
      /does not trust \(expected issuer beedesk\)/,
    ],
    ['bad tenant', async () => `Bearer ${await sign({ sub: 'a', tid: 'Bad Tenant!' }, { iss: 'beedesk' })}`, /tid/],
    ['bad role', async () => `Bearer ${await sign({ sub: 'a', tid: 't', roles: ['root'] }, { iss: 'beedesk' })}`, /roles/],
    [
      'alg none',
      async () => `Bearer ${new UnsecuredJWT({ sub: 'a', tid: 't' }).setIssuer('beedesk').setExpirationTime('1h').encode()}`,
      /algorithm \(none\) is not accepted/,
    ],
  ])('refuses %s', async (_name, header, message) => {
    await expect(authenticate({ authorization: await header() }, 'req-2')).resolves.toMatchObject(refused(message));
  });

  it('refuses a token without exp', async () => {
    const token = await new SignJWT({ sub: 'a', tid: 't' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('beedesk')
      .sign(new TextEncoder().encode(secret));
    await expect(authenticate({ authorization: `Bearer ${token}` }, 'r')).resolves.toEqual(refused(/"exp" claim/));
  });
});

/** A real loopback JWKS endpoint whose key set the test changes, counting how often it is fetched. */
class JwksServer {
  keys: JWK[] = [];
  fetches = 0;
  /** When set, requests are accepted and never answered. */
  hang = false;
  private readonly hanging: ServerResponse[] = [];
  private server: Server | null = null;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((_req, res) => {
      this.fetches++;
      if (this.hang) return void this.hanging.push(res);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: this.keys }));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/.well-known/jwks.json`;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging.splice(0)) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }
}

interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: KeyLike;
  jwk: JWK;
}

async function signingKey(kid: string, alg: 'RS256' | 'ES256'): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg);
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

const claims = { sub: 'partner-user', tid: 'acme', roles: ['agent'] };
function idpToken(
  key: SigningKey,
  options: { alg?: string; kid?: string; iss?: string; aud?: string; exp?: string; privateKey?: KeyLike } = {},
) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? key.alg, kid: options.kid ?? key.kid })
    .setIssuer(options.iss ?? 'https://idp.example')
    .setAudience(options.aud ?? 'beedesk')
    .setIssuedAt()
    .setExpirationTime(options.exp ?? '5m')
    .sign(options.privateKey ?? key.privateKey);
}

describe('JWT authentication (JWKS: RS256 and ES256)', () => {
  const jwks = new JwksServer();
  let rsa: SigningKey;
  let ec: SigningKey;
  let authenticate: ReturnType<typeof createAuthenticator>;
  const bearer = async (token: Promise<string>): Promise<AuthResult> => authenticate({ authorization: `Bearer ${await token}` }, 'req');

  beforeAll(async () => {
    [rsa, ec] = await Promise.all([signingKey('rsa-1', 'RS256'), signingKey('ec-1', 'ES256')]);
    jwks.keys = [rsa.jwk, ec.jwk];
    await jwks.start();
    authenticate = createAuthenticator({
      jwksUrl: jwks.url,
      secret,
      issuer: 'https://idp.example',
      audience: 'beedesk',
      clockToleranceSeconds: 5,
      jwksTimeoutMs: 500,
      jwksCooldownMs: 200,
    });
  });
  afterAll(() => jwks.stop());

  it('accepts RS256 and ES256 tokens from the key set, fetched once and cached', async () => {
    await expect(bearer(idpToken(rsa))).resolves.toMatchObject({
      ok: true,
      caller: { tenantId: 'acme', userId: 'partner-user', roles: ['agent'] },
      credential: { kind: 'jwt' },
    });
    await expect(bearer(idpToken(ec))).resolves.toMatchObject({ ok: true, caller: { tenantId: 'acme' } });
    for (let i = 0; i < 5; i++) await expect(bearer(idpToken(rsa))).resolves.toMatchObject({ ok: true });
    expect(jwks.fetches).toBe(1);
  });

  it('keeps HS256 with JWT_SECRET working beside the JWKS, picked by the token’s alg', async () => {
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('https://idp.example')
      .setAudience('beedesk')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(secret));
    await expect(bearer(Promise.resolve(token))).resolves.toMatchObject({ ok: true });
  });

  it('picks up a rotated key (new kid) without a restart', async () => {
    const rotated = await signingKey('rsa-2', 'RS256');
    jwks.keys = [rotated.jwk, ec.jwk];
    await new Promise((resolve) => setTimeout(resolve, 250)); // past the refetch cooldown
    const before = jwks.fetches;
    await expect(bearer(idpToken(rotated))).resolves.toMatchObject({ ok: true });
    expect(jwks.fetches).toBe(before + 1);
    // The retired key is gone from the refreshed set.
    await expect(bearer(idpToken(rsa))).resolves.toEqual(refused(/does not publish/));
    jwks.keys = [rsa.jwk, rotated.jwk, ec.jwk];
    await new Promise((resolve) => setTimeout(resolve, 250));
  });

  it.each([
    ['a disallowed algorithm (RS384)', async () => idpToken(rsa, { alg: 'RS384' }), /algorithm \(RS384\) is not accepted/],
    [
      'a foreign key under a published kid',
      async () => idpToken(rsa, { privateKey: (await generateKeyPair('RS256')).privateKey }),
      /not valid/,
    ],
    ['an unknown kid', async () => idpToken({ ...(await signingKey('stranger', 'ES256')) }), /does not publish/],
    ['an expired token', async () => idpToken(rsa, { exp: '-1m' }), /expired/],
  ])('refuses %s', async (_name, token, message) => {
    await expect(bearer(token())).resolves.toEqual(refused(message));
  });

  it.each([
    [
      'a wrong issuer',
      () => idpToken(ec, { iss: 'https://evil.example' }),
      'TOKEN_ISSUER_NOT_TRUSTED',
      /expected issuer https:\/\/idp\.example/,
    ],
    ['a wrong audience', () => idpToken(ec, { aud: 'someone-else' }), 'TOKEN_AUDIENCE_MISMATCH', /another audience \(expected beedesk\)/],
  ])('refuses %s with a reason a client can act on', async (_name, token, reason, message) => {
    await expect(bearer(token())).resolves.toEqual({ ...refused(message), reason });
  });

  it('maps the provider’s claims to tenant and roles (JWT_TENANT_CLAIM, JWT_ROLES_CLAIM, JWT_ROLE_MAP), for its tokens only', async () => {
    const mapped = createAuthenticator({
      jwksUrl: jwks.url,
      secret,
      issuer: 'https://idp.example',
      audience: 'beedesk',
      clockToleranceSeconds: 5,
      claims: { tenantClaim: 'org', rolesClaim: 'realm_access.roles', roleMap: parseRoleMap('support-admins=admin,support=agent') },
    });
    const provider = (roles: unknown) =>
      new SignJWT({ sub: 'ines', org: 'acme', realm_access: { roles } })
        .setProtectedHeader({ alg: 'ES256', kid: ec.kid })
        .setIssuer('https://idp.example')
        .setAudience('beedesk')
        .setExpirationTime('5m')
        .sign(ec.privateKey);
    const as = async (token: string) => mapped({ authorization: `Bearer ${token}` }, 'r');
    await expect(as(await provider(['support-admins', 'offline_access']))).resolves.toMatchObject({
      ok: true,
      caller: { tenantId: 'acme', userId: 'ines', roles: ['admin'] },
    });
    await expect(as(await provider('support offline_access'))).resolves.toMatchObject({ ok: true, caller: { roles: ['agent'] } });
    // No mapped role: a customer, never staff.
    await expect(as(await provider(['admin']))).resolves.toMatchObject({ ok: true, caller: { roles: ['customer'] } });
    // A development (HS256) token keeps beedesk's own claims.
    const dev = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('https://idp.example')
      .setAudience('beedesk')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(secret));
    await expect(as(dev)).resolves.toMatchObject({ ok: true, caller: { tenantId: 'acme', roles: ['agent'] } });
  });

  it('refuses an HS256 token signed with the RSA public key as the secret (algorithm confusion)', async () => {
    const onlyJwks = createAuthenticator({ jwksUrl: jwks.url, clockToleranceSeconds: 0 });
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JSON.stringify(rsa.jwk)));
    await expect(onlyJwks({ authorization: `Bearer ${forged}` }, 'r')).resolves.toEqual(
      refused(/algorithm \(HS256\) is not accepted; accepted: RS256, ES256/),
    );
  });
});

describe('JWT authentication when the JWKS endpoint is down', () => {
  it('refuses within the bound when nothing listens, and recovers when it is back', async () => {
    const jwks = new JwksServer();
    const key = await signingKey('k1', 'ES256');
    jwks.keys = [key.jwk];
    await jwks.start();
    const url = jwks.url;
    await jwks.stop();
    const told: string[] = [];
    const authenticate = createAuthenticator({
      jwksUrl: url,
      clockToleranceSeconds: 0,
      jwksTimeoutMs: 500,
      jwksCooldownMs: 0,
      onJwksUnavailable: (reason) => told.push(reason),
    });
    const token = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setExpirationTime('5m').sign(key.privateKey);
    const started = Date.now();
    await expect(authenticate({ authorization: `Bearer ${token}` }, 'r')).resolves.toEqual(
      refused(/signing keys \(JWKS\) are unavailable/),
    );
    expect(Date.now() - started).toBeLessThan(1000);
    expect(told).toHaveLength(1);
    // Same port, back up: the next request fetches again and passes.
    const port = Number(new URL(url).port);
    const revived = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [key.jwk] })),
    );
    await new Promise<void>((resolve) => revived.listen(port, '127.0.0.1', resolve));
    try {
      await expect(authenticate({ authorization: `Bearer ${token}` }, 'r')).resolves.toMatchObject({ ok: true });
    } finally {
      revived.closeAllConnections();
      await new Promise((resolve) => revived.close(resolve));
    }
  });

  it('refuses within the bound when the endpoint accepts but never answers', async () => {
    const jwks = new JwksServer();
    const key = await signingKey('k1', 'RS256');
    jwks.hang = true;
    await jwks.start();
    try {
      const authenticate = createAuthenticator({ jwksUrl: jwks.url, clockToleranceSeconds: 0, jwksTimeoutMs: 400 });
      const token = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setExpirationTime('5m').sign(key.privateKey);
      const started = Date.now();
      await expect(authenticate({ authorization: `Bearer ${token}` }, 'r')).resolves.toEqual(refused(/JWKS\) are unavailable/));
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(350);
      expect(elapsed).toBeLessThan(1500);
    } finally {
      await jwks.stop();
    }
  });
});

// Against the real Redis (REDIS_URL or 127.0.0.1:6379), under a key prefix of its own that it removes after.
describe('partner API keys', () => {
  const keyPrefix = `unit-gw-apikeys-${process.pid}-${Date.now()}`;
  let redis: Redis;
  let repository: ApiKeyRepository;
  let authenticate: ReturnType<typeof createAuthenticator>;

  beforeAll(async () => {
    redis = await connectRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    repository = new ApiKeyRepository(redis, keyPrefix);
    authenticate = createAuthenticator({ secret, clockToleranceSeconds: 0, apiKeys: { redis, keyPrefix } });
  });
  afterAll(async () => {
    const ours = await redis.keys(`${keyPrefix}:*`);
    if (ours.length) await redis.del(...ours);
    redis.disconnect();
  });

  it('maps a key to its tenant and roles, and stops accepting it once revoked', async () => {
    const { key, record } = await repository.create('acme', {
      name: 'crm',
      roles: ['agent', 'customer'],
      persistedOnly: true,
      createdBy: 'admin-1',
    });
    await expect(authenticate({ apiKey: key }, 'req-9')).resolves.toEqual({
      ok: true,
      caller: { tenantId: 'acme', userId: `api-key:${record.id}`, roles: ['agent', 'customer'], requestId: 'req-9' },
      expiresAt: null,
      credential: { kind: 'api-key', keyId: record.id, persistedOnly: true },
    });
    await repository.revoke('acme', record.id);
    await expect(authenticate({ apiKey: key }, 'r')).resolves.toEqual(refused(/API key is not valid/));
  });

  it('refuses malformed keys and a key whose tenant part was edited', async () => {
    const { key } = await repository.create('tenant-a', { name: 'a', roles: ['admin'], persistedOnly: false, createdBy: 'u' });
    for (const bad of ['nonsense', 'bdk_tenant-a_short', key.replace('bdk_tenant-a_', 'bdk_tenant-b_'), `${key}A`]) {
      await expect(authenticate({ apiKey: bad }, 'r')).resolves.toEqual(refused(/API key is not valid/));
    }
    await expect(authenticate({ apiKey: key }, 'r')).resolves.toMatchObject({ ok: true, caller: { tenantId: 'tenant-a' } });
  });

  it('refuses a request carrying both a bearer token and an API key', async () => {
    const { key } = await repository.create('acme', { name: 'both', roles: ['admin'], persistedOnly: false, createdBy: 'u' });
    const token = await sign({ sub: 'a', tid: 'acme' });
    await expect(authenticate({ authorization: `Bearer ${token}`, apiKey: key }, 'r')).resolves.toEqual(refused(/either .* not both/));
  });

  it('refuses API keys when the gateway has no key store', async () => {
    const { key } = await repository.create('acme', { name: 'nostore', roles: ['admin'], persistedOnly: false, createdBy: 'u' });
    const withoutStore = createAuthenticator({ secret, clockToleranceSeconds: 0 });
    await expect(withoutStore({ apiKey: key }, 'r')).resolves.toEqual(refused(/does not accept API keys/));
  });
});
