import pino from 'pino';
import { traceFields } from './tracing';

export type Logger = pino.Logger;

/** Tenants whose request loggers log at debug level and may carry message text (LOG_DEBUG_TENANTS). */
const DEBUG_TENANTS = Symbol('beedesk.debugTenants');
type WithDebugTenants = Logger & { [DEBUG_TENANTS]?: ReadonlySet<string> };

/** `LOG_DEBUG_TENANTS`: a comma-separated list of tenant ids (blanks ignored). */
export function parseDebugTenants(raw: string | undefined): Set<string> {
  return new Set(
    (raw ?? '')
      .split(',')
      .map((id) => id.trim())
      .filter(Boolean),
  );
}

/**
 * Pino redaction paths (defence in depth: callers never pass these): credentials in headers,
 * graphql-ws connectionParams, and the usual secret names, at the top level and one level down.
 */
export const REDACTED_PATHS: readonly string[] = [
  'authorization',
  'cookie',
  'connectionParams',
  '["x-api-key"]',
  '["set-cookie"]',
  ...['headers', 'req.headers', 'request.headers', '*.headers'].flatMap((h) => [
    `${h}.authorization`,
    `${h}.cookie`,
    `${h}["set-cookie"]`,
    `${h}["x-api-key"]`,
    `${h}["x-beedesk-context"]`,
  ]),
  '*.authorization',
  '*.connectionParams',
  ...['token', 'secret', 'password', 'apiKey', 'jwt'].flatMap((name) => [name, `*.${name}`]),
];

export const CENSOR = '[redacted]';

/** Field names that hold credentials whatever their exact spelling (accessToken, clientSecret, x-api-key…). */
const SECRET_NAME =
  /secret|token|passw(or)?d|api[-_]?key|private[-_]?key|signing[-_]?key|^key$|authorization|cookie|connectionparams|credential/i;
const MAX_DEPTH = 5;

/**
 * Censors every field whose name looks like a credential, at any depth (pino's redact paths cannot
 * match names by pattern). Counts and flags (`maxTokens: 100`) are kept; errors are left to pino's
 * error serializer (they carry no credentials: we never put one in a message).
 */
export function censorSecrets<T>(value: T, depth = 0): T {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object' || value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((item: unknown) => censorSecrets(item, depth + 1)) as T;
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(value as Record<string, unknown>)) {
    const keepsMeaning = typeof field === 'number' || typeof field === 'boolean' || field === null || field === undefined;
    out[name] = SECRET_NAME.test(name) && !keepsMeaning ? CENSOR : censorSecrets(field, depth + 1);
  }
  return out as T;
}

export interface LoggerOptions {
  /** Tenants with debug logging switched on; defaults to LOG_DEBUG_TENANTS. */
  debugTenants?: Iterable<string>;
  /** Where lines go (stdout by default); tests capture them here. */
  destination?: pino.DestinationStream;
}

/**
 * Structured JSON logs. Request text is never logged by callers (ids and sizes instead) unless
 * `mayLogText` says the tenant has debug logging on, so a log line never carries a tenant's content
 * by accident. Credentials are censored by path and by name as a backstop.
 */
export function createLogger(service: string, level: string = process.env.LOG_LEVEL ?? 'info', options: LoggerOptions = {}): Logger {
  const pinoOptions: pino.LoggerOptions = {
    name: service,
    level,
    base: { service },
    redact: { paths: [...REDACTED_PATHS], censor: CENSOR },
    // The active span's ids (OpenTelemetry), so a line joins its trace in the trace store.
    mixin: traceFields,
    formatters: {
      bindings: (bindings) => censorSecrets(bindings),
      log: (object) => censorSecrets(object),
    },
  };
  const logger: WithDebugTenants = options.destination ? pino(pinoOptions, options.destination) : pino(pinoOptions);
  // Children inherit it (pino children are created with Object.create(parent)).
  logger[DEBUG_TENANTS] = options.debugTenants ? new Set(options.debugTenants) : parseDebugTenants(process.env.LOG_DEBUG_TENANTS);
  return logger;
}

const debugTenantsOf = (logger: Logger): ReadonlySet<string> => (logger as WithDebugTenants)[DEBUG_TENANTS] ?? new Set();

/** True when debug logging is switched on for this tenant (LOG_DEBUG_TENANTS). */
export function isDebugTenant(logger: Logger, tenantId: string): boolean {
  return debugTenantsOf(logger).has(tenantId);
}

/**
 * Whether a line of this (request) logger may include message text: questions, answers, turns,
 * article titles and bodies. Only for a tenant with debug logging on, and only in debug lines:
 * `if (mayLogText(log)) log.debug({ question }, '…')`.
 */
export function mayLogText(logger: Logger): boolean {
  const tenant = (logger.bindings() as { tenant?: unknown }).tenant;
  return typeof tenant === 'string' && isDebugTenant(logger, tenant) && logger.isLevelEnabled('debug');
}

/**
 * A child logger tagged with the tenant and the request (trace) id; at debug level when debug
 * logging is switched on for the tenant.
 */
export function requestLogger(logger: Logger, tenantId: string, requestId: string): Logger {
  const debug = isDebugTenant(logger, tenantId) && !logger.isLevelEnabled('debug');
  return logger.child({ tenant: tenantId, traceId: requestId }, debug ? { level: 'debug' } : undefined);
}
