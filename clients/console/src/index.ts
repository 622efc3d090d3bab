import { join } from 'node:path';

/** The built web app (index.html, console.js, console.css): what the embedded default serves under `/console`. */
export const CONSOLE_WEB_DIR = join(__dirname, 'web');

/** Where the app is served; its client-side routes live under it. */
export const CONSOLE_PATH = '/console';

/** Gzipped bytes the app's JavaScript may take (the bundle budget test holds it there). */
export const CONSOLE_JS_BUDGET_GZIP_BYTES = 80 * 1024;
/** Gzipped bytes of its stylesheet. */
export const CONSOLE_CSS_BUDGET_GZIP_BYTES = 8 * 1024;

/**
 * What the page at `/console/config.json` tells the app about signing in: a development sign-in that asks
 * the embedded default for a token, or the organisation's OpenID Connect provider (authorization code + PKCE).
 */
export type ConsoleConfig =
  | { signIn: 'development'; tenants: string[]; graphqlUrl?: string }
  | {
      signIn: 'oidc';
      issuer: string;
      clientId: string;
      scope?: string;
      audience?: string;
      graphqlUrl?: string;
      /** The provider's claim names and role map, as the gateway reads them (JWT_TENANT_CLAIM, JWT_ROLES_CLAIM, JWT_ROLE_MAP). */
      claims?: { tenant?: string; roles?: string; roleMap?: Record<string, string> };
    };
