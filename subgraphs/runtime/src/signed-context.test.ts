import type { Caller } from './caller';
import { signContext, verifyContext } from './signed-context';

const context: Caller = { tenantId: 'demo-bank', userId: 'u-1', roles: ['customer'], requestId: 'r-1' };
const secret = 'a-secret-of-sixteen+';

describe('signed tenant context', () => {
  it('round-trips a context signed with the shared secret', () => {
    const header = signContext(context, secret, 1000);
    expect(verifyContext(header, secret, 1001)).toEqual({ ok: true, caller: context });
  });

  it('refuses a missing, tampered, foreign-signed or expired context', () => {
    const header = signContext(context, secret, 1000);
    expect(verifyContext(undefined, secret)).toMatchObject({ ok: false, reason: 'missing signed tenant context' });
    expect(verifyContext(header, 'another-secret-123', 1001)).toMatchObject({ ok: false, reason: 'bad tenant context signature' });
    const [payload, sig] = header.split('.');
    const forged = Buffer.from(Buffer.from(payload!, 'base64url').toString().replace('demo-bank', 'demo-cn0')).toString('base64url');
    expect(verifyContext(`${forged}.${sig}`, secret, 1001)).toMatchObject({ ok: false, reason: 'bad tenant context signature' });
    expect(verifyContext(header, secret, 1000 + 301)).toMatchObject({ ok: false, reason: 'expired tenant context' });
    expect(verifyContext('garbage', secret)).toMatchObject({ ok: false });
  });
});
