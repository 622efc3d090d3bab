import { commonEnv, ConfigError, internalSecretOf, loadConfig } from './config';

describe('configuration', () => {
  it('applies defaults and treats empty variables as unset', () => {
    const config = loadConfig(commonEnv, { REDIS_URL: '', LOG_LEVEL: '' });
    expect(config.REDIS_URL).toBeUndefined();
    expect(config.LOG_LEVEL).toBe('info');
    expect(config.KAFKA_TOPIC).toBe('inference.requests');
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
});
