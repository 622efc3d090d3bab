/**
 * OpenID Connect sign-in for real deployments: the authorization-code flow with PKCE (RFC 7636) against the
 * identity provider whose JWKS the gateway trusts (JWT_JWKS_URL, JWT_ISSUER). A public client: no secret in
 * the browser; the code verifier never leaves it except to the token endpoint.
 */

export interface OidcSettings {
  issuer: string;
  clientId: string;
  /** Default `openid profile`. */
  scope?: string;
  /** Sent as `audience` when the provider needs it to mint an access token for the API. */
  audience?: string;
}

export interface ProviderMetadata {
  authorization_endpoint: string;
  token_endpoint: string;
}

export interface PendingSignIn {
  state: string;
  verifier: string;
  redirectUri: string;
  tokenEndpoint: string;
  clientId: string;
}

const base64url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

/** A code verifier: 32 random bytes, base64url (43 characters, within RFC 7636's 43–128). */
export function randomToken(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** S256 code challenge: base64url(sha256(verifier)). */
export async function codeChallenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

export async function discover(issuer: string, fetchImpl: typeof fetch = fetch): Promise<ProviderMetadata> {
  const response = await fetchImpl(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
  if (!response.ok) throw new Error(`the identity provider's discovery document answered HTTP ${response.status}`);
  const metadata = (await response.json()) as Partial<ProviderMetadata>;
  if (!metadata.authorization_endpoint || !metadata.token_endpoint) throw new Error('the discovery document lacks its endpoints');
  return { authorization_endpoint: metadata.authorization_endpoint, token_endpoint: metadata.token_endpoint };
}

/** The URL to send the browser to, and what to keep until it comes back. */
export async function authorizationRequest(
  settings: OidcSettings,
  metadata: ProviderMetadata,
  redirectUri: string,
): Promise<{ url: string; pending: PendingSignIn }> {
  const verifier = randomToken();
  const state = randomToken(16);
  const url = new URL(metadata.authorization_endpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', settings.clientId);
  url.searchParams.set('redirect_uri', redirectUri);
  url.searchParams.set('scope', settings.scope ?? 'openid profile');
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge', await codeChallenge(verifier));
  url.searchParams.set('code_challenge_method', 'S256');
  if (settings.audience) url.searchParams.set('audience', settings.audience);
  return {
    url: url.toString(),
    pending: { state, verifier, redirectUri, tokenEndpoint: metadata.token_endpoint, clientId: settings.clientId },
  };
}

/**
 * Exchanges the code the provider sent back (after checking `state`) for tokens. The gateway needs a JWT
 * carrying `tid` and `roles`: the access token when it is a JWT, else the ID token.
 */
export async function completeSignIn(callback: URL, pending: PendingSignIn, fetchImpl: typeof fetch = fetch): Promise<string> {
  const error = callback.searchParams.get('error');
  if (error) throw new Error(callback.searchParams.get('error_description') ?? error);
  const code = callback.searchParams.get('code');
  if (!code) throw new Error('the identity provider sent no code');
  if (callback.searchParams.get('state') !== pending.state) throw new Error('the sign-in answer does not match the request (state)');
  const response = await fetchImpl(pending.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: pending.redirectUri,
      client_id: pending.clientId,
      code_verifier: pending.verifier,
    }).toString(),
  });
  const body = (await response.json().catch(() => ({}))) as { access_token?: string; id_token?: string; error?: string };
  if (!response.ok) throw new Error(`the token endpoint refused: ${body.error ?? `HTTP ${response.status}`}`);
  const jwt = [body.access_token, body.id_token].find((token) => typeof token === 'string' && token.split('.').length === 3);
  if (!jwt) throw new Error('the identity provider returned no JWT');
  return jwt;
}
