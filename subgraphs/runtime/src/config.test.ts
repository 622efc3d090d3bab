import {
  commonEnv,
  ConfigError,
  internalSecretOf,
  isLoopbackHost,
  loadConfig,
  refuseDevelopmentSecrets,
  UNSAFE_DEFAULTS_EXIT_CODE,
  UnsafeDefaultsError,
} from './config';

describe('configuration', () => {
  it('applies defaults and treats empty variables as unset', () => {
    const config = loadConfig(commonEnv, { REDIS_URL: '', LOG_LEVEL: '' });
    expect(config.REDIS_URL).toBeUndefined();
    expect(config.LOG_LEVEL).toBe('info');
    expect(config.KAFKA_TOPIC).toBe('inference.requests');
  });

  it('leaves the Redis command timeout to the service unless it is set, 0 turning it off', () => {
    expect(loadConfig(commonEnv, {}).REDIS_COMMAND_TIMEOUT_MS).toBeUndefined();
    expect(loadConfig(commonEnv, { REDIS_COMMAND_TIMEOUT_MS: '0' }).REDIS_COMMAND_TIMEOUT_MS).toBe(0);
    expect(loadConfig(commonEnv, { REDIS_COMMAND_TIMEOUT_MS: '1500' }).REDIS_COMMAND_TIMEOUT_MS).toBe(1500);
    expect(() => loadConfig(commonEnv, { REDIS_COMMAND_TIMEOUT_MS: '-1' })).toThrow(ConfigError);
  });

  it('lists every invalid variable in one error', () => {
    expect(() => loadConfig(commonEnv, { REDIS_URL: 'localhost', KAFKA_PARTITIONS: 'many' })).toThrow(
      expect.objectContaining({ issues: [expect.stringMatching(/^REDIS_URL: /), expect.stringMatching(/^KAFKA_PARTITIONS: /)] }),
    );
  });

  it('requires an internal secret in production only', () => {
    expect(internalSecretOf({ NODE_ENV: 'development' })).toMatch(/dev/);
    expect(() => internalSecretOf({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(internalSecretOf({ NODE_ENV: 'production', INTERNAL_SECRET: 'x'.repeat(16) })).toBe('x'.repeat(16));
  });

  it('tells loopback addresses from reachable ones', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'beedesk.example.com', '128.0.0.1']) expect(isLoopbackHost(host)).toBe(false);
  });

  it('refuses development secrets on a reachable address unless the deployment says it is for development', () => {
    const reachable = { HOST: '0.0.0.0', BEEDESK_DEV_DEPLOYMENT: 'false' as const };
    expect(() => refuseDevelopmentSecrets(reachable, ['INTERNAL_SECRET', 'JWT_SECRET'], {})).toThrow(
      expect.objectContaining({
        name: 'UnsafeDefaultsError',
        exitCode: UNSAFE_DEFAULTS_EXIT_CODE,
        message: expect.stringMatching(/^refusing to start: HOST=0\.0\.0\.0 .* INTERNAL_SECRET, JWT_SECRET are not set[^\n]*$/),
      }),
    );
    expect(() => refuseDevelopmentSecrets(reachable, ['INTERNAL_SECRET'], { NODE_ENV: 'test' })).toThrow(UnsafeDefaultsError);
    expect(() => refuseDevelopmentSecrets(reachable, [], {})).not.toThrow();
    expect(() => refuseDevelopmentSecrets({ ...reachable, HOST: '127.0.0.1' }, ['INTERNAL_SECRET'], {})).not.toThrow();
    expect(() => refuseDevelopmentSecrets({ ...reachable, BEEDESK_DEV_DEPLOYMENT: 'true' }, ['INTERNAL_SECRET'], {})).not.toThrow();
    expect(() => refuseDevelopmentSecrets(reachable, ['INTERNAL_SECRET'], { NODE_ENV: 'development' })).not.toThrow();
  });
});
