import { randomBytes } from 'node:crypto';
import { mintToken } from '@beedesk/gateway';
import { E2E_JWT_SECRET } from '../harness/cluster';
import type { World } from './world';

/** A credential the gateway must refuse (401 UNAUTHENTICATED) before anything is planned or fetched. */
export interface BadCredential {
  name: string;
  /** Headers of an HTTP or SSE request carrying it. */
  headers: Record<string, string>;
  /** The token graphql-ws sends as `connectionParams.authorization` (`Bearer <token>`); undefined sends none. */
  wsToken: string | undefined;
  /** False when the credential has no graphql-ws form (an API key is a header). */
  overWebSocket: boolean;
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const bearer = (jwt: string): Record<string, string> => ({ authorization: `Bearer ${jwt}` });
const jwtCredential = (name: string, jwt: string): BadCredential => ({ name, headers: bearer(jwt), wsToken: jwt, overWebSocket: true });

/**
 * Every way of presenting a wrong identity, each claiming tenant A's admin where it claims
 * anything: if one were accepted, A's data would come back and the leak check would see it.
 */
export async function badCredentials(world: World): Promise<BadCredential[]> {
  const now = Math.floor(Date.now() / 1000);
  const claimsOfAdminA = { sub: 'admin', tid: world.a.id, roles: ['admin'], iat: now, exp: now + 3600 };
  const expired = await mintToken({ tenant: world.a.id, user: 'admin', roles: ['admin'], secret: E2E_JWT_SECRET, ttlSeconds: -3600 });
  const otherKey = await mintToken({
    tenant: world.a.id,
    user: 'admin',
    roles: ['admin'],
    secret: 'another-key-not-the-gateways-0123456789',
  });
  // B's customer's real token with its payload rewritten to A's admin, B's signature kept.
  const [header, , signature] = world.b.tokens.customer.split('.');
  const tampered = `${header}.${b64url(claimsOfAdminA)}.${signature}`;
  const unsigned = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claimsOfAdminA)}.`;
  return [
    { name: 'no token', headers: {}, wsToken: undefined, overWebSocket: true },
    jwtCredential('an expired token', expired),
    jwtCredential('a tampered payload (tenant A admin, B’s signature)', tampered),
    jwtCredential('a token signed by another key', otherKey),
    jwtCredential('an unsigned token (alg none)', unsigned),
    jwtCredential('a malformed token', 'not-a-jwt'),
    {
      name: 'a Basic authorization',
      headers: { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` },
      wsToken: undefined,
      overWebSocket: false,
    },
    {
      name: 'an unknown API key naming A',
      headers: { 'x-api-key': `bdk_${world.a.id}_${randomBytes(16).toString('hex')}` },
      wsToken: undefined,
      overWebSocket: false,
    },
    { name: 'a revoked API key of A', headers: { 'x-api-key': world.a.revokedApiKeySecret }, wsToken: undefined, overWebSocket: false },
  ];
}
