import pino from 'pino';
import { InProcessQueue } from './in-process';
import type { InferenceRequest } from './types';

const request = (sessionId: string, n: number): InferenceRequest => ({
  v: 1,
  tenantId: 't',
  sessionId,
  userId: 'u',
  answerId: `${sessionId}-${n}`,
  question: `q${n}`,
  history: [],
  requestId: 'r',
  enqueuedAt: 0,
});

describe('InProcessQueue', () => {
  it('keeps per-session order, runs sessions in parallel and retries failures', async () => {
    const queue = new InProcessQueue(pino({ level: 'silent' }), [1, 1]);
    const seen: string[] = [];
    let failedOnce = false;
    await queue.start(async (r) => {
      if (r.answerId === 'a-2' && !failedOnce) {
        failedOnce = true;
        throw new Error('transient');
      }
      await new Promise((resolve) => setTimeout(resolve, r.sessionId === 'a' ? 5 : 1));
      seen.push(r.answerId);
    });
    for (let n = 1; n <= 3; n++) {
      await queue.enqueue(request('a', n));
      await queue.enqueue(request('b', n));
    }
    await queue.stop();
    expect(seen.filter((id) => id.startsWith('a'))).toEqual(['a-1', 'a-2', 'a-3']);
    expect(seen.filter((id) => id.startsWith('b'))).toEqual(['b-1', 'b-2', 'b-3']);
    expect(seen.indexOf('b-3')).toBeLessThan(seen.indexOf('a-3'));
    expect(await queue.lag()).toBe(0);
  });
});
