import { SignJWT } from 'jose';
import { createAuthenticator } from './auth';

const secret = 'unit-test-secret-123456';
const sign = (claims: Record<string, unknown>, { key = secret, exp = '1h', iss }: { key?: string; exp?: string; iss?: string } = {}) => {
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime(exp);
  if (iss) jwt = jwt.setIssuer(iss);
  return jwt.sign(new TextEncoder().encode(key));
};

describe('JWT authentication', () => {
  const authenticate = createAuthenticator({ secret, issuer: 'beedesk', clockToleranceSeconds: 0 });

  it('turns sub/tid/roles into a tenant context', async () => {
    const token = await sign({ sub: 'alice', tid: 'demo-bank', roles: ['agent', 'agent'] }, { iss: 'beedesk' });
    await expect(authenticate({ authorization: `Bearer ${token}` }, 'req-1')).resolves.toEqual({
      ok: true,
      context: { tenantId: 'demo-bank', userId: 'alice', roles: ['agent'], requestId: 'req-1' },
      expiresAt: expect.any(Number),
      credential: { kind: 'jwt' },
    });
  });

  it.each([
    ['no header', async () => undefined, /Missing Authorization/],
    ['not bearer', async () => 'Basic abc', /Malformed/],
    ['garbage', async () => 'Bearer abc.def.ghi', /not valid/],
    ['foreign key', async () => `Bearer ${await sign({ sub: 'a', tid: 't' }, { key: 'another-secret-12345', iss: 'beedesk' })}`, /not valid/],
    ['expired', async () => `Bearer ${await sign({ sub: 'a', tid: 't' }, { exp: '-1m', iss: 'beedesk' })}`, /expired/],
    ['wrong issuer', async () => `Bearer ${await sign({ sub: 'a', tid: 't' }, { iss: 'other' })}`, /refused/],
    ['bad tenant', async () => `Bearer ${await sign({ sub: 'a', tid: 'Bad Tenant!' }, { iss: 'beedesk' })}`, /tid/],
    ['bad role', async () => `Bearer ${await sign({ sub: 'a', tid: 't', roles: ['root'] }, { iss: 'beedesk' })}`, /roles/],
  ])('refuses %s', async (_name, header, message) => {
    const result = await authenticate({ authorization: await header() }, 'req-2');
    expect(result).toEqual({ ok: false, message: expect.stringMatching(message) });
  });
});
