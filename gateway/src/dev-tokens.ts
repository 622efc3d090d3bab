import { DEV_JWT_SECRET } from './config';
import type { Role } from '@beedesk/runtime';
import { SignJWT } from 'jose';

export interface TokenRequest {
  tenant: string;
  user: string;
  roles: Role[];
  /** Seconds until expiry; default one day. */
  ttlSeconds?: number;
  secret?: string;
  issuer?: string;
  audience?: string;
}

/** A development JWT as the gateway expects it: HS256, `sub`, `tid`, `roles`. */
export async function mintToken(request: TokenRequest): Promise<string> {
  const secret = request.secret ?? process.env.JWT_SECRET ?? DEV_JWT_SECRET;
  let jwt = new SignJWT({ tid: request.tenant, roles: request.roles })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(request.user)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (request.ttlSeconds ?? 24 * 3600));
  const issuer = request.issuer ?? process.env.JWT_ISSUER;
  const audience = request.audience ?? process.env.JWT_AUDIENCE;
  if (issuer) jwt = jwt.setIssuer(issuer);
  if (audience) jwt = jwt.setAudience(audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
