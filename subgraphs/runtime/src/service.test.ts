import { Writable } from 'node:stream';
import { createLogger } from './logger';
import { logProcessWarnings } from './service';

describe('logProcessWarnings', () => {
  const saved = process.listeners('warning');
  afterEach(() => {
    process.removeAllListeners('warning');
    for (const listener of saved) process.on('warning', listener);
  });

  it('turns process warnings into JSON log lines and replaces the plain-text printer', () => {
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
        done();
      },
    });
    logProcessWarnings(createLogger('test', 'debug', { destination }));
    expect(process.listeners('warning')).toHaveLength(1);
    // What process.emitWarning does on the next tick (emitted directly: jest's sandboxed process defers it elsewhere).
    const warning = (name: string, message: string) => Object.assign(new Error(message), { name });
    process.emit('warning', warning('ExperimentalWarning', 'something odd'));
    process.emit('warning', warning('TimeoutNegativeWarning', '-1795548902104 is a negative number.'));
    expect(lines.map((l) => [l['level'], (l['warning'] as { name: string }).name])).toEqual([
      [40, 'ExperimentalWarning'],
      [20, 'TimeoutNegativeWarning'],
    ]);
  });
});
