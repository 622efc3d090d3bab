import pino from 'pino';

export type Logger = pino.Logger;

/**
 * Structured JSON logs. Secrets are redacted by path; request text is never logged by callers
 * (log ids and sizes instead), so a log line never carries another tenant's content.
 */
export function createLogger(service: string, level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name: service,
    level,
    base: { service },
    redact: {
      paths: ['authorization', 'headers.authorization', 'req.headers.authorization', '*.token', 'token', 'secret', '*.secret'],
      censor: '[redacted]',
    },
  });
}

/** A child logger tagged with the tenant and the request (trace) id. */
export function requestLogger(logger: Logger, tenantId: string, requestId: string): Logger {
  return logger.child({ tenant: tenantId, traceId: requestId });
}
