import { createAdmission, useVisitorTokens } from '../pipeline';
import { isVisitorToken, VisitorTokens } from './visitor-tokens';

const tokens = new VisitorTokens('unit-test-internal-secret-0123456789');
const ORIGIN = 'https://shop.example';

describe('visitor tokens', () => {
  it('round-trips the claims, and only the gateway’s key verifies them', async () => {
    const { token, expiresAt } = await tokens.issue({ tenantId: 'shop', userId: 'visitor:abc', origin: ORIGIN });
    expect(isVisitorToken(token)).toBe(true);
    expect(await tokens.verify(token)).toEqual({
      ok: true,
      claims: { tenantId: 'shop', userId: 'visitor:abc', origin: ORIGIN, expiresAt },
    });
    const other = new VisitorTokens('another-internal-secret-0123456789');
    expect((await other.verify(token)).ok).toBe(false);
    const expired = await tokens.issue({ tenantId: 'shop', userId: 'visitor:abc', origin: ORIGIN }, Math.floor(Date.now() / 1000) - 3600);
    expect(await tokens.verify(expired.token)).toEqual({ ok: false, message: expect.stringMatching(/expired/) });
    expect(isVisitorToken('not.a.jwt')).toBe(false);
  });

  it('hashes the visitor id into a per-tenant user id that does not contain it', () => {
    const a = tokens.anonymousUserId('shop', 'v1234567890123456789012');
    expect(a).toMatch(/^visitor:[A-Za-z0-9_-]{32}$/);
    expect(a).not.toContain('v1234567890123456789012');
    expect(tokens.anonymousUserId('shop', 'v1234567890123456789012')).toBe(a);
    expect(tokens.anonymousUserId('bank', 'v1234567890123456789012')).not.toBe(a);
  });
});

describe('useVisitorTokens (admission phase 1)', () => {
  const admission = createAdmission([useVisitorTokens(tokens)]);
  const connect = (authorization: string | undefined, origin: string | undefined, surface: 'api' | 'widget' = 'api') =>
    admission.connect('http', { authorization, origin, surface }, 'req-1');

  it('admits a visitor token from its own origin as a customer with a visitor credential', async () => {
    const { token } = await tokens.issue({ tenantId: 'shop', userId: 'visitor:abc', origin: ORIGIN });
    const admitted = await connect(`Bearer ${token}`, ORIGIN, 'widget');
    expect(admitted).toMatchObject({
      ok: true,
      caller: { tenantId: 'shop', userId: 'visitor:abc', roles: ['customer'] },
      credential: { kind: 'visitor', origin: ORIGIN },
    });
  });

  it('refuses it from another origin or without one, and anything but a visitor token on the widget endpoint', async () => {
    const { token } = await tokens.issue({ tenantId: 'shop', userId: 'visitor:abc', origin: ORIGIN });
    for (const origin of ['https://evil.example', undefined]) {
      const refused = await connect(`Bearer ${token}`, origin);
      expect(refused).toMatchObject({ ok: false, status: 401 });
    }
    const plain = await connect('Bearer some.other.jwt', ORIGIN, 'widget');
    expect(plain).toMatchObject({ ok: false, status: 401 });
    expect(JSON.stringify(plain)).toContain('visitor tokens only');
  });
});
