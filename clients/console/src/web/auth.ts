import { authorizationRequest, completeSignIn, discover, type OidcSettings, type PendingSignIn } from './oidc';

export type StaffRole = 'agent' | 'admin';

/** What the console knows of the signed-in user, from the token's claims (the server checks them anyway). */
export interface Identity {
  token: string;
  tenant: string;
  user: string;
  roles: string[];
  /** Seconds since the epoch. */
  exp: number;
}

interface CommonConfig {
  /** The gateway's GraphQL endpoint when it is not this page's origin's /graphql (it must allow this origin: CORS_ORIGINS). */
  graphqlUrl?: string;
}
export interface DevConfig extends CommonConfig {
  signIn: 'development';
  tenants: string[];
}
export interface OidcConfig extends OidcSettings, CommonConfig {
  signIn: 'oidc';
  /**
   * How the provider's token names the tenant and the roles, as the gateway is configured to read them
   * (JWT_TENANT_CLAIM, JWT_ROLES_CLAIM, JWT_ROLE_MAP); by default `tid` and `roles`. Only for showing who is
   * signed in and what the role allows: the gateway maps and checks the claims itself.
   */
  claims?: { tenant?: string; roles?: string; roleMap?: Record<string, string> };
}
export type ConsoleConfig = DevConfig | OidcConfig;

let loaded: ConsoleConfig | null = null;
/** The configuration main.tsx loaded before the first render. */
export function consoleConfig(): ConsoleConfig {
  if (!loaded) throw new Error('the console configuration is not loaded yet');
  return loaded;
}

/** The gateway's GraphQL endpoint: the configured one, else this origin's /graphql. */
export const graphqlUrl = (): string => loaded?.graphqlUrl ?? new URL('/graphql', location.href).toString();

const TOKEN_KEY = 'beedesk.console.token';
const PENDING_KEY = 'beedesk.console.oidc';

const claimAt = (payload: Record<string, unknown>, path: string): unknown =>
  path
    .split('.')
    .reduce<unknown>((value, key) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined), payload);

/**
 * The claims of a JWT, unverified: only to show the user who they are; the gateway verifies every request.
 * `mapping`: the provider's claim names and role map (OidcConfig.claims), as the gateway reads them.
 */
export function identityOf(token: string, mapping: OidcConfig['claims'] = {}): Identity | null {
  try {
    const payload = token.split('.')[1];
    if (!payload) return null;
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const claims = JSON.parse(decodeURIComponent(escape(json))) as Record<string, unknown>;
    const tenant = claimAt(claims, mapping.tenant ?? 'tid');
    const raw = claimAt(claims, mapping.roles ?? 'roles');
    const listed = typeof raw === 'string' ? raw.split(/\s+/).filter(Boolean) : Array.isArray(raw) ? raw.map(String) : null;
    const roleMap = mapping.roleMap;
    const roles = roleMap && listed ? listed.flatMap((r) => (roleMap[r] ? [roleMap[r]] : [])) : listed;
    if (typeof tenant !== 'string' || typeof claims.sub !== 'string' || !roles) return null;
    return { token, tenant, user: claims.sub, roles: [...new Set(roles)], exp: Number(claims.exp ?? 0) };
  } catch {
    return null;
  }
}

/** The configured claim mapping when signing in with OIDC (development tokens use tid and roles). */
const claimMapping = (): OidcConfig['claims'] => (loaded?.signIn === 'oidc' ? loaded.claims : undefined);

export const isStaff = (identity: Identity): boolean => identity.roles.some((r) => r === 'agent' || r === 'admin');
export const isAdmin = (identity: Identity): boolean => identity.roles.includes('admin');
export const isExpired = (identity: Identity, now = Date.now()): boolean => identity.exp > 0 && identity.exp * 1000 <= now;

/** The stored identity (this tab's session storage: closing the tab signs out), unless expired. */
export function storedIdentity(): Identity | null {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const identity = token ? identityOf(token, claimMapping()) : null;
  if (!identity || isExpired(identity)) {
    sessionStorage.removeItem(TOKEN_KEY);
    return null;
  }
  return identity;
}

export function storeToken(token: string): Identity {
  const identity = identityOf(token, claimMapping());
  if (!identity) throw new Error('the token carries no tenant, user or roles');
  sessionStorage.setItem(TOKEN_KEY, token);
  return identity;
}

export function signOut(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

export async function loadConfig(): Promise<ConsoleConfig> {
  const response = await fetch('/console/config.json', { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`/console/config.json answered HTTP ${response.status}`);
  loaded = (await response.json()) as ConsoleConfig;
  return loaded;
}

/** The embedded default's development sign-in: a dev token for a demo tenant and a staff role. */
export async function devSignIn(tenant: string, role: StaffRole, user: string): Promise<Identity> {
  const response = await fetch('/console/dev-token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tenant, role, user }),
  });
  const body = (await response.json().catch(() => ({}))) as { token?: string; error?: string };
  if (!response.ok || !body.token) throw new Error(body.error ?? `HTTP ${response.status}`);
  return storeToken(body.token);
}

const redirectUri = (): string => `${location.origin}/console/callback`;

/** Starts the OIDC sign-in: the browser leaves for the identity provider. */
export async function startOidcSignIn(config: OidcConfig): Promise<void> {
  const metadata = await discover(config.issuer);
  const { url, pending } = await authorizationRequest(config, metadata, redirectUri());
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  location.assign(url);
}

/** Finishes it on /console/callback. */
export async function finishOidcSignIn(): Promise<Identity> {
  const raw = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  if (!raw) throw new Error('no sign-in was started in this tab');
  const token = await completeSignIn(new URL(location.href), JSON.parse(raw) as PendingSignIn);
  return storeToken(token);
}
