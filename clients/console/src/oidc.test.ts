import { createHash } from 'node:crypto';
import { authorizationRequest, codeChallenge, completeSignIn, randomToken } from './web/oidc';

// The PKCE pieces of the console's OIDC sign-in (pure functions; Node's WebCrypto is the browser's API).
describe('oidc (authorization code + PKCE)', () => {
  const metadata = { authorization_endpoint: 'https://id.example.com/authorize', token_endpoint: 'https://id.example.com/token' };

  it('makes RFC 7636 verifiers and S256 challenges', async () => {
    const verifier = randomToken();
    expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(randomToken()).not.toBe(verifier);
    const expected = createHash('sha256').update(verifier).digest('base64url');
    expect(await codeChallenge(verifier)).toBe(expected);
  });

  it('builds the authorization request and exchanges the code with the verifier', async () => {
    const { url, pending } = await authorizationRequest(
      { issuer: 'https://id.example.com', clientId: 'console' },
      metadata,
      'http://127.0.0.1/console/callback',
    );
    const sent = new URL(url);
    expect(sent.searchParams.get('response_type')).toBe('code');
    expect(sent.searchParams.get('code_challenge_method')).toBe('S256');
    expect(sent.searchParams.get('code_challenge')).toBe(await codeChallenge(pending.verifier));
    expect(sent.searchParams.get('state')).toBe(pending.state);

    const requests: { url: string; body: string }[] = [];
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJ0aWQiOiJ0In0.c2ln';
    const fakeFetch = (async (input: string, init: { body: string }) => {
      requests.push({ url: input, body: init.body });
      return new Response(JSON.stringify({ access_token: jwt, token_type: 'Bearer' }), { status: 200 });
    }) as unknown as typeof fetch;
    const callback = new URL(`http://127.0.0.1/console/callback?code=abc&state=${pending.state}`);
    expect(await completeSignIn(callback, pending, fakeFetch)).toBe(jwt);
    const form = new URLSearchParams(requests[0]!.body);
    expect(requests[0]!.url).toBe(metadata.token_endpoint);
    expect(form.get('code_verifier')).toBe(pending.verifier);
    expect(form.get('grant_type')).toBe('authorization_code');

    await expect(completeSignIn(new URL('http://127.0.0.1/console/callback?code=abc&state=forged'), pending, fakeFetch)).rejects.toThrow(
      /state/,
    );
    await expect(completeSignIn(new URL('http://127.0.0.1/console/callback?error=access_denied'), pending, fakeFetch)).rejects.toThrow(
      /access_denied/,
    );
  });
});
