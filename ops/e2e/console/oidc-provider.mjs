// A real OpenID provider for the console's OIDC e2e (oidc.e2e.ts): the npm package oidc-provider, with its
// development login and consent pages, one public client (the console: authorization code + PKCE, no secret)
// and accounts whose claims name the tenant `org` and the roles `groups`, as a corporate provider would.
// ESM-only, so the e2e runs it as a child process: `node oidc-provider.mjs <port> <redirect uri>…`, signing
// with the private JWK set in OIDC_JWKS (JSON); it prints `ready <issuer>` once it listens, stops on SIGTERM.
import process from 'node:process';
import { URL } from 'node:url';
import Provider from 'oidc-provider';

const [port, ...redirectUris] = process.argv.slice(2);
if (!port || redirectUris.length === 0 || !process.env.OIDC_JWKS) {
  process.stderr.write('usage: OIDC_JWKS=<private JWK set> node oidc-provider.mjs <port> <redirect uri>…\n');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

/** Who may sign in: a login name is the account id; its claims say which tenant and groups. */
const ACCOUNTS = {
  olga: { name: 'Olga Admin', org: 'oidc-bank', groups: ['bank-support-admins', 'everyone'] },
  oscar: { name: 'Oscar Agent', org: 'oidc-bank', groups: ['bank-support', 'everyone'] },
};

const provider = new Provider(issuer, {
  // The console, and another application of the organisation (its tokens are not meant for beedesk).
  clients: ['beedesk-console', 'intranet'].map((clientId) => ({
    client_id: clientId,
    token_endpoint_auth_method: 'none',
    redirect_uris: redirectUris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
  })),
  jwks: JSON.parse(process.env.OIDC_JWKS),
  // The console exchanges the code from the browser: CORS for the origins the client redirects to (what a
  // corporate provider calls the client's web origins).
  clientBasedCORS: (_ctx, origin, client) => client.redirectUris.some((uri) => new URL(uri).origin === origin),
  cookies: { keys: ['beedesk-e2e-cookie-key'] },
  // PKCE for every authorization request (oidc-provider then refuses one without code_challenge).
  pkce: { required: () => true, methods: ['S256'] },
  scopes: ['openid', 'profile', 'beedesk'],
  claims: { openid: ['sub'], profile: ['name'], beedesk: ['org', 'groups'] },
  // The ID token carries the scopes' claims (the console sends it: the access token is opaque here).
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  ttl: { IdToken: 3600, AccessToken: 3600, AuthorizationCode: 60, Session: 3600, Interaction: 600, Grant: 3600 },
  async findAccount(_ctx, id) {
    const account = ACCOUNTS[id];
    if (!account) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...account }) };
  },
});
// Plain http on loopback: cookies without `secure`.
provider.proxy = false;

const server = provider.listen(Number(port), '127.0.0.1', () => process.stdout.write(`ready ${issuer}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
