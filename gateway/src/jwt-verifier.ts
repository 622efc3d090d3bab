import { createRemoteJWKSet, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';

export interface JwtVerifierOptions {
  /** HS256 shared secret (JWT_SECRET); development tokens. */
  secret?: string;
  /** JWKS endpoint of the identity provider (JWT_JWKS_URL); RS256 and ES256 tokens. */
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  clockToleranceSeconds: number;
  /** Bound on one JWKS fetch (connect and response); a token waiting on it is refused after it. */
  jwksTimeoutMs?: number;
  /** Least time between two JWKS fetches caused by unknown `kid`s (so random kids cannot flood the provider). */
  jwksCooldownMs?: number;
  /** How long a fetched key set is used before it is fetched again. */
  jwksCacheMaxAgeMs?: number;
  /** Told when the JWKS endpoint cannot be read (for an operator's log; the token is refused); at most once per 10 s. */
  onJwksUnavailable?: (reason: string) => void;
}

/**
 * Why a token was refused, when it is one a client can act on: signed by another issuer, meant for another
 * audience (sent as `extensions.reason` beside the code UNAUTHENTICATED).
 */
export type JwtRefusalReason = 'TOKEN_ISSUER_NOT_TRUSTED' | 'TOKEN_AUDIENCE_MISMATCH';

/** `source`: who vouches for the claims, the shared secret (development tokens) or the provider's JWKS. */
export type JwtVerification =
  { ok: true; payload: JWTPayload; source: 'secret' | 'jwks' } | { ok: false; message: string; reason?: JwtRefusalReason };
export type JwtVerifier = (token: string) => Promise<JwtVerification>;

const HMAC_ALGORITHMS = ['HS256'];
const JWKS_ALGORITHMS = ['RS256', 'ES256'];
export const DEFAULT_JWKS_TIMEOUT_MS = 3000;
export const DEFAULT_JWKS_COOLDOWN_MS = 30_000;
export const DEFAULT_JWKS_CACHE_MAX_AGE_MS = 10 * 60_000;

/** The JWKS endpoint could not be read (down, slow, not JSON, not a key set): not the token's fault. */
class JwksUnavailable extends Error {}

/**
 * A remote key set (jose: cached, refetched when a token names an unknown `kid`, so rotated keys work
 * without a restart) whose failures to fetch become JwksUnavailable, with an overall deadline so a
 * stalled endpoint can never hold a request longer than about `timeoutMs`.
 */
function remoteKeys(url: URL, timeoutMs: number, cooldownMs: number, cacheMaxAgeMs: number): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(url, { timeoutDuration: timeoutMs, cooldownDuration: cooldownMs, cacheMaxAge: cacheMaxAgeMs });
  return async (header, token) => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new joseErrors.JWKSTimeout()), timeoutMs + 250);
    });
    try {
      return await Promise.race([remote(header, token), deadline]);
    } catch (error) {
      // The token's own problems (no key with its kid, an algorithm the set cannot serve) stay what they are.
      if (
        error instanceof joseErrors.JWKSNoMatchingKey ||
        error instanceof joseErrors.JWKSMultipleMatchingKeys ||
        error instanceof joseErrors.JOSENotSupported
      ) {
        throw error;
      }
      const reason =
        error instanceof joseErrors.JWKSTimeout ? `no answer within ${timeoutMs} ms` : (error as Error).message || String(error);
      throw new JwksUnavailable(reason);
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * Verifies a JWT's signature and standard claims. HS256 tokens are checked with the shared secret, RS256 and
 * ES256 tokens with the JWKS; both may be configured at once and the token's `alg` picks. `exp` is required,
 * `iss`/`aud` are checked when configured, with a clock tolerance.
 */
export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  if (!options.secret && !options.jwksUrl) throw new Error('a JWT secret or a JWKS URL is required');
  const secretKey = options.secret ? new TextEncoder().encode(options.secret) : null;
  const jwks = options.jwksUrl
    ? remoteKeys(
        new URL(options.jwksUrl),
        options.jwksTimeoutMs ?? DEFAULT_JWKS_TIMEOUT_MS,
        options.jwksCooldownMs ?? DEFAULT_JWKS_COOLDOWN_MS,
        options.jwksCacheMaxAgeMs ?? DEFAULT_JWKS_CACHE_MAX_AGE_MS,
      )
    : null;
  let lastToldAt = -Infinity;
  const tellJwksUnavailable = (reason: string): void => {
    if (Date.now() - lastToldAt < 10_000) return;
    lastToldAt = Date.now();
    options.onJwksUnavailable?.(reason);
  };
  const accepted = [...(secretKey ? HMAC_ALGORITHMS : []), ...(jwks ? JWKS_ALGORITHMS : [])];
  const claims = {
    issuer: options.issuer,
    audience: options.audience,
    clockTolerance: options.clockToleranceSeconds,
    // A token that never expires cannot be revoked by time: refuse it.
    requiredClaims: ['exp'],
  };

  return async (token) => {
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      return { ok: false, message: 'The token is not valid.' };
    }
    if (typeof alg !== 'string' || !accepted.includes(alg)) {
      return { ok: false, message: `The token's algorithm (${String(alg)}) is not accepted; accepted: ${accepted.join(', ')}.` };
    }
    try {
      // `accepted` only lists an algorithm whose key is configured, so one of the two applies.
      const verified =
        HMAC_ALGORITHMS.includes(alg) && secretKey
          ? jwtVerify(token, secretKey, { ...claims, algorithms: HMAC_ALGORITHMS })
          : jwks && jwtVerify(token, jwks, { ...claims, algorithms: JWKS_ALGORITHMS });
      if (!verified) return { ok: false, message: 'The token is not valid.' };
      return { ok: true, payload: (await verified).payload, source: HMAC_ALGORITHMS.includes(alg) ? 'secret' : 'jwks' };
    } catch (error) {
      if (error instanceof JwksUnavailable) {
        tellJwksUnavailable(error.message);
        return {
          ok: false,
          message: 'The token could not be verified: the identity provider’s signing keys (JWKS) are unavailable. Try again later.',
        };
      }
      if (error instanceof joseErrors.JWTExpired) return { ok: false, message: 'The token has expired.' };
      if (error instanceof joseErrors.JWTClaimValidationFailed) {
        if (error.claim === 'iss')
          return {
            ok: false,
            reason: 'TOKEN_ISSUER_NOT_TRUSTED',
            message: `The token was issued by an identity provider this gateway does not trust (expected issuer ${options.issuer}).`,
          };
        if (error.claim === 'aud')
          return {
            ok: false,
            reason: 'TOKEN_AUDIENCE_MISMATCH',
            message: `The token is meant for another audience (expected ${options.audience}).`,
          };
        return { ok: false, message: `The token was refused: ${error.message}.` };
      }
      if (error instanceof joseErrors.JWKSNoMatchingKey)
        return { ok: false, message: 'The token is signed with a key the identity provider does not publish.' };
      return { ok: false, message: 'The token is not valid.' };
    }
  };
}
