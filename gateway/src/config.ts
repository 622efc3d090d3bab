import { commonEnv, developmentSecretsOf } from '@beedesk/runtime';
import { DEFAULT_PORTS } from '@beedesk/schema';
import { z } from 'zod';
import { BUCKET_OVERRIDES_PATTERN, BUCKET_PATTERN, DEFAULT_FAIR_SHARE_SETTINGS, WEIGHTS_PATTERN } from './limits/settings';
import { DEFAULT_APQ_CAPS } from './persisted/apq-store';
import { DEFAULT_DOCUMENT_SETTINGS } from './pipeline/useDocument';

export const gatewayEnv = commonEnv.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(DEFAULT_PORTS.gateway),
  /** Any composed supergraph SDL; defaults to beedesk's own schema/supergraph.graphql. */
  SUPERGRAPH_PATH: z.string().min(1).optional(),
  /** `jwt` (default) or `none` for serving a generic supergraph without authentication. */
  GATEWAY_AUTH: z.enum(['jwt', 'none']).default('jwt'),
  /** Allows GATEWAY_AUTH=none with NODE_ENV=production. */
  GATEWAY_AUTH_NONE_FORCE: z.enum(['true', 'false']).default('false'),
  JWT_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  JWT_ISSUER: z.string().min(1).optional(),
  JWT_AUDIENCE: z.string().min(1).optional(),
  JWT_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(600).default(30),
  /**
   * Serve the staff console at /console: its sign-in configuration as JSON (`{"signIn":"oidc","issuer":…,
   * "clientId":…}`, see console-app.ts); unset: no console. Checked at start (parseConsoleConfig).
   */
  GATEWAY_CONSOLE_CONFIG: z.string().min(2).optional(),
  /**
   * Claims of the identity provider's tokens (JWKS-verified only; HS256 development tokens always carry
   * `tid` and `roles`): the claim naming the tenant, and the claim (a dotted path, e.g. `realm_access.roles`)
   * holding the roles, a list or a space-separated string.
   */
  JWT_TENANT_CLAIM: z
    .string()
    .regex(/^[\w:/.-]{1,100}$/)
    .default('tid'),
  JWT_ROLES_CLAIM: z
    .string()
    .regex(/^[\w:/.-]{1,100}$/)
    .default('roles'),
  /**
   * The provider's role names as beedesk roles, `provider-role=role,…` (e.g. `support-admins=admin,support=agent`);
   * when set, only mapped roles count. Unset: the roles claim must hold beedesk's role names.
   */
  JWT_ROLE_MAP: z
    .string()
    .regex(/^[^=,\s]+=(customer|agent|admin)(,[^=,\s]+=(customer|agent|admin))*$/, '`provider-role=customer|agent|admin`, comma-separated')
    .optional(),
  /** The identity provider's JWKS (RS256/ES256 tokens); cached, refetched for an unknown `kid`. */
  JWT_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Bound on one JWKS fetch: a request waiting on an unreachable provider is refused after it. */
  JWT_JWKS_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(3000),
  /** Least time between JWKS fetches caused by an unknown `kid`. */
  JWT_JWKS_COOLDOWN_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(16 * 1024 * 1024),
  SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  /** Most bytes of a `query` text, comments included (QUERY_TOO_LARGE, 413); 0: only MAX_BODY_BYTES bounds it. */
  MAX_QUERY_BYTES: z.coerce.number().int().min(0).default(DEFAULT_DOCUMENT_SETTINGS.maxQueryBytes),
  /** Most bytes the parsed-document cache retains (estimated from text and tokens); 0: no cache. */
  DOCUMENT_CACHE_MAX_BYTES: z.coerce.number().int().min(0).default(DEFAULT_DOCUMENT_SETTINGS.cacheMaxBytes),
  /** Gateway processes sharing the port (node:cluster): a number or `auto` (one per core). */
  GATEWAY_WORKERS: z
    .string()
    .regex(/^(auto|[1-9][0-9]{0,2})$/, 'a number from 1 or "auto"')
    .default('1'),
  /** Share identical in-flight subgraph queries between requests of the same caller. */
  GATEWAY_DEDUP_INFLIGHT: z.enum(['true', 'false']).default('true'),
  // Limits (gateway/README.md, "Limits"); 0 switches one off. Unset depth, cost and tenant limits are off in generic mode.
  GATEWAY_MAX_DEPTH: z.coerce.number().int().min(0).optional(),
  GATEWAY_MAX_COST: z.coerce.number().int().min(0).optional(),
  GATEWAY_DEFAULT_LIST_SIZE: z.coerce.number().int().min(0).default(10),
  /** `<per second>:<burst>` or 0. */
  GATEWAY_RATE_LIMIT_TENANT: z.string().regex(BUCKET_PATTERN, '<per second>:<burst> or 0').optional(),
  GATEWAY_RATE_LIMIT_API_KEY: z.string().regex(BUCKET_PATTERN, '<per second>:<burst> or 0').optional(),
  /** Requests of one user (JWT `sub`) of a tenant, on top of the tenant's bucket. */
  GATEWAY_RATE_LIMIT_USER: z.string().regex(BUCKET_PATTERN, '<per second>:<burst> or 0').optional(),
  GATEWAY_RATE_LIMIT_WIDGET_KEY: z.string().regex(BUCKET_PATTERN, '<per second>:<burst> or 0').optional(),
  GATEWAY_RATE_LIMIT_WIDGET_IP: z.string().regex(BUCKET_PATTERN, '<per second>:<burst> or 0').optional(),
  /** `tenant=<per second>:<burst>,…` */
  GATEWAY_RATE_LIMIT_TENANT_OVERRIDES: z.string().regex(BUCKET_OVERRIDES_PATTERN, 'tenant=<per second>:<burst>,…').optional(),
  GATEWAY_MAX_SUBSCRIPTIONS_PER_CONNECTION: z.coerce.number().int().min(0).default(100),
  GATEWAY_MAX_SUBSCRIPTIONS_PER_TENANT: z.coerce.number().int().min(0).optional(),
  GATEWAY_MAX_SUBSCRIPTIONS_PER_USER: z.coerce.number().int().min(0).optional(),
  /** Open graphql-ws sockets per user, idle ones included (over every replica). */
  GATEWAY_MAX_SOCKETS_PER_USER: z.coerce.number().int().min(0).optional(),
  // Fair share (gateway/README.md, "Fair share"): per gateway process; both bounds 0 switch it off (unset: off in generic mode).
  /** Operations executing at once on this gateway process; 0: no global bound. */
  GATEWAY_MAX_CONCURRENT_OPERATIONS: z.coerce.number().int().min(0).optional(),
  /** Operations of one tenant executing at once on this gateway process; 0: no per-tenant bound. */
  GATEWAY_MAX_CONCURRENT_PER_TENANT: z.coerce.number().int().min(0).optional(),
  /** The per-tenant bound while other tenants are active too (limits/fair-share.ts); 0: the per-tenant bound always. */
  GATEWAY_MAX_CONCURRENT_PER_TENANT_CONTENDED: z.coerce.number().int().min(0).optional(),
  /** The per-tenant bound while other tenants are active and this process's event loop runs late; 0: the contended bound. */
  GATEWAY_MAX_CONCURRENT_PER_TENANT_UNDER_PRESSURE: z.coerce.number().int().min(0).optional(),
  /** Mean event-loop lateness (ms, per 250 ms window) past which the process counts as short of CPU; 0: never. */
  GATEWAY_PRESSURE_EVENT_LOOP_DELAY_MS: z.coerce.number().min(0).optional(),
  /** Operations of one tenant waiting for a slot; more are refused (RATE_LIMITED, reason TENANT_QUEUE_FULL). */
  GATEWAY_TENANT_QUEUE_LENGTH: z.coerce.number().int().min(0).default(DEFAULT_FAIR_SHARE_SETTINGS.maxQueuedPerTenant),
  /** Longest wait for a slot (SERVICE_UNAVAILABLE, reason TENANT_QUEUE_TIMEOUT). */
  GATEWAY_TENANT_QUEUE_WAIT_MS: z.coerce.number().int().min(1).max(600_000).default(DEFAULT_FAIR_SHARE_SETTINGS.maxWaitMs),
  /** `tenant=<weight>,…`: a tenant's share of the slots relative to others (default 1 each). */
  GATEWAY_TENANT_WEIGHTS: z.string().regex(WEIGHTS_PATTERN, 'tenant=<weight>,…').optional(),
  /** Unset: on with NODE_ENV=development only. */
  GATEWAY_INTROSPECTION: z.enum(['true', 'false']).optional(),
  /** `*` or a comma list of origins; unset: `*` with NODE_ENV=development, none otherwise. */
  CORS_ORIGINS: z.string().optional(),
  /**
   * The persisted-operation manifest (trusted documents): a path, or `none`. Default: beedesk's
   * schema/persisted-operations.json with beedesk's supergraph, none with another SUPERGRAPH_PATH.
   */
  PERSISTED_OPERATIONS_PATH: z.string().min(1).optional(),
  /** Every caller may run manifest documents only (not only API keys marked persisted-only). */
  GATEWAY_PERSISTED_ONLY: z.enum(['true', 'false']).default('false'),
  /** How long a registered automatic persisted query is kept (see DEFAULT_APQ_TTL_SECONDS). */
  APQ_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .default(24 * 60 * 60),
  /** Automatic persisted queries one tenant may have registered at once (PERSISTED_QUERY_LIMIT_REACHED). */
  APQ_MAX_PER_TENANT: z.coerce.number().int().min(1).default(DEFAULT_APQ_CAPS.maxCount),
  /** Bytes of query text one tenant may have registered as APQs at once (PERSISTED_QUERY_LIMIT_REACHED). */
  APQ_MAX_BYTES_PER_TENANT: z.coerce.number().int().min(1024).default(DEFAULT_APQ_CAPS.maxBytes),
});
export type GatewayConfig = z.infer<typeof gatewayEnv>;

/** The dev signing secret, so `npm start` and `npm run token` work with no setup. */
export const DEV_JWT_SECRET = 'beedesk-dev-jwt-secret-change-me';

/** The published development secrets the gateway would use: DEV_INTERNAL_SECRET and, with JWT auth, DEV_JWT_SECRET. */
export function developmentSecretsOfGateway(
  config: Pick<GatewayConfig, 'INTERNAL_SECRET' | 'GATEWAY_AUTH' | 'JWT_SECRET' | 'JWT_JWKS_URL'>,
): string[] {
  const unset = developmentSecretsOf(config);
  if (config.GATEWAY_AUTH === 'jwt' && !config.JWT_SECRET && !config.JWT_JWKS_URL) unset.push('JWT_SECRET');
  return unset;
}

/** `--supergraph <file>`, `--auth none|jwt`, `--port <n>`, `--host <h>`, `--workers <n|auto>` override their env settings. */
export function applyCliArgs(argv: readonly string[], env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  const flags: Record<string, string> = {
    '--supergraph': 'SUPERGRAPH_PATH',
    '--auth': 'GATEWAY_AUTH',
    '--port': 'PORT',
    '--host': 'HOST',
    '--workers': 'GATEWAY_WORKERS',
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const name = flags[flag];
    if (name) out[name] = inline ?? argv[++i];
    else if (arg === '--force') out.GATEWAY_AUTH_NONE_FORCE = 'true';
    else throw new Error(`unknown argument ${arg} (known: ${Object.keys(flags).join(', ')}, --force)`);
  }
  return out;
}

/** Subgraph URL overrides: `<NAME>_URL` (e.g. TENANT_URL) or SUBGRAPH_URL_<NAME>, name upper-cased. */
export function subgraphUrlOverride(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const key = name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  return env[`SUBGRAPH_URL_${key}`] ?? env[`${key}_URL`];
}

/** PERSISTED_OPERATIONS_PATH as a manifest path, null for none, or undefined for beedesk's own (only with its own supergraph). */
export function manifestPathOf(setting: string | undefined, supergraphPath: string | undefined): string | null | undefined {
  if (setting === 'none') return null;
  if (setting) return setting;
  return supergraphPath ? null : undefined;
}
