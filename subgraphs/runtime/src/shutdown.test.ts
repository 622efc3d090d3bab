import { Lifecycle } from './shutdown';
import type { Logger } from './logger';

function recordingLogger() {
  const lines: { level: string; details: unknown; message: string }[] = [];
  const at =
    (level: string) =>
    (details: unknown, message = '') =>
      void lines.push({ level, details, message });
  const logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } as unknown as Logger;
  return { logger, lines };
}

describe('graceful shutdown', () => {
  it('runs hooks in reverse order of registration and reports a clean stop', async () => {
    const { logger } = recordingLogger();
    const lifecycle = new Lifecycle(logger);
    const order: string[] = [];
    lifecycle.onShutdown('redis', () => void order.push('redis'));
    lifecycle.onShutdown('http', () => void order.push('http'));
    expect(await lifecycle.shutdown('test', 1000)).toBe(true);
    expect(order).toEqual(['http', 'redis']);
  });

  it('names the step it was waiting for when time runs out', async () => {
    const { logger, lines } = recordingLogger();
    const lifecycle = new Lifecycle(logger);
    lifecycle.onShutdown('kafka producer', () => new Promise<void>(() => undefined));
    lifecycle.onShutdown('http', () => undefined);
    expect(await lifecycle.shutdown('test', 50)).toBe(false);
    expect(lines.filter((l) => l.level === 'warn')).toEqual([
      { level: 'warn', details: { hook: 'kafka producer', timeoutMs: 50 }, message: 'shutdown timed out waiting for a step' },
    ]);
  });
});
