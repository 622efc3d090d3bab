import { Writable } from 'node:stream';
import { CENSOR, censorSecrets, createLogger, mayLogText, parseDebugTenants, requestLogger, type LoggerOptions } from './logger';

/** A logger whose JSON lines are captured, as a log collector would receive them. */
function capturedLogger(level = 'info', options: LoggerOptions = {}) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger('test', level, { debugTenants: [], ...options, destination });
  return { logger, lines, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('log redaction', () => {
  it('censors credentials in headers, connectionParams and secret-like fields at any depth', () => {
    const { logger, lines, records } = capturedLogger();
    logger.info(
      {
        headers: { authorization: 'Bearer eyJhbGciOi.jwt.sig', 'x-api-key': 'bdk_t_s3cr3t', cookie: 'sid=abc', accept: 'application/json' },
        connectionParams: { authorization: 'Bearer eyJws.jwt.sig' },
        config: { JWT_SECRET: 'hs256-secret-value', INTERNAL_SECRET: 'internal-secret-value', REDIS_URL: 'redis://127.0.0.1:6379' },
        nested: { deeper: { accessToken: 'at-123', clientSecret: 'cs-456', password: 'pw-789', apiKey: 'ak-000' } },
        maxTokens: 256,
      },
      'request',
    );
    expect(lines).toHaveLength(1);
    for (const secret of [
      'eyJhbGciOi',
      'bdk_t_s3cr3t',
      'sid=abc',
      'eyJws',
      'hs256-secret-value',
      'internal-secret-value',
      'at-123',
      'cs-456',
      'pw-789',
      'ak-000',
    ]) {
      expect(lines[0]).not.toContain(secret);
    }
    const [record] = records();
    expect(record).toMatchObject({
      headers: { authorization: CENSOR, 'x-api-key': CENSOR, cookie: CENSOR, accept: 'application/json' },
      connectionParams: CENSOR,
      config: { JWT_SECRET: CENSOR, INTERNAL_SECRET: CENSOR, REDIS_URL: 'redis://127.0.0.1:6379' },
      nested: { deeper: { accessToken: CENSOR, clientSecret: CENSOR, password: CENSOR, apiKey: CENSOR } },
      maxTokens: 256, // a count, not a credential
      msg: 'request',
    });
  });

  it('censors secrets passed as child bindings too', () => {
    const { logger, lines } = capturedLogger();
    logger.child({ token: 'tok-in-binding', tenant: 't1' }).info('hello');
    expect(lines[0]).not.toContain('tok-in-binding');
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ tenant: 't1', token: CENSOR });
  });

  it('leaves errors to the error serializer and plain values alone', () => {
    expect(censorSecrets({ answerId: 'a1', chars: 12, list: [{ secret: 'x' }] })).toEqual({
      answerId: 'a1',
      chars: 12,
      list: [{ secret: CENSOR }],
    });
    const error = new Error('boom');
    expect(censorSecrets({ err: error }).err).toBe(error);
  });
});

describe('per-tenant debug logging', () => {
  it('parses LOG_DEBUG_TENANTS', () => {
    expect([...parseDebugTenants(' demo-bank, acme ,,')]).toEqual(['demo-bank', 'acme']);
    expect(parseDebugTenants(undefined).size).toBe(0);
  });

  it('allows message text only in debug lines of a tenant with debug logging on', () => {
    const { logger, records } = capturedLogger('info', { debugTenants: ['t-debug'] });
    const quiet = requestLogger(logger, 't-quiet', 'r1');
    const debug = requestLogger(logger, 't-debug', 'r2');
    expect(mayLogText(quiet)).toBe(false);
    expect(mayLogText(debug)).toBe(true);
    expect(mayLogText(debug.child({ answerId: 'a1' }))).toBe(true); // children of the request logger inherit it
    expect(mayLogText(logger)).toBe(false); // no tenant: never

    for (const log of [quiet, debug]) {
      if (mayLogText(log)) log.debug({ question: 'where is my card?' }, 'question text');
      log.debug('debug line');
      log.info({ chars: 17 }, 'question queued');
    }
    const lines = records();
    // The quiet tenant logs at info, without text; the debug tenant at debug, with it.
    expect(lines.filter((l) => l['tenant'] === 't-quiet').map((l) => l['msg'])).toEqual(['question queued']);
    expect(lines.filter((l) => l['tenant'] === 't-debug').map((l) => l['msg'])).toEqual(['question text', 'debug line', 'question queued']);
    expect(JSON.stringify(lines.filter((l) => l['tenant'] === 't-quiet'))).not.toContain('where is my card');
    // Every request line carries the tenant and the request id.
    expect(lines.every((l) => typeof l['tenant'] === 'string' && typeof l['traceId'] === 'string')).toBe(true);
  });

  it('keeps text out when the service logs above debug and no tenant is switched on', () => {
    const { logger } = capturedLogger('debug', { debugTenants: [] });
    expect(mayLogText(requestLogger(logger, 't1', 'r1'))).toBe(false);
  });
});
