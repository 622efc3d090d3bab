import type { GraphQLError } from 'graphql';
import { BUILD_WORKER_SCRIPT, WorkerModelBuilder, type Calibrator } from '@beedesk/knowledge/builder';
import type { TenantCalibration } from '@beedesk/knowledge/calibration';
import { CalibrationCache, TARGET_CONFIDENT_WRONG } from './calibration';
import type { ArticleRecord } from './data';

const article = (id: string, title: string, questions: string[], updatedAt = '2026-12-01T00:00:00.000Z'): ArticleRecord => ({
  id,
  title,
  body: `${title}.`,
  questions,
  locale: 'en',
  updatedAt,
});

const kb = [
  article('card', 'Card delivery', ['where is my card', 'my card has not arrived', 'when will my card come', 'card still not here']),
  article('pin', 'PIN reset', ['forgot my pin', 'reset my pin', 'change the pin', 'pin is blocked']),
  article('refund', 'Refunds', ['how do I get a refund', 'refund my order', 'money back please', 'return and refund']),
];

describe('Tenant.answerCalibration (CalibrationCache)', () => {
  const env = process.env.BEEDESK_EMBEDDINGS;
  beforeAll(() => {
    // Word features only: the test must not depend on the model cache of the machine it runs on.
    process.env.BEEDESK_EMBEDDINGS = 'off';
  });
  afterAll(() => {
    process.env.BEEDESK_EMBEDDINGS = env;
  });

  it('calibrates on the knowledge base, with the hand-off rate at the calibrated and at the current threshold', async () => {
    const c = await new CalibrationCache().get('t', kb, 0.99);
    expect(c.articles).toBe(3);
    expect(c.questionsAsked).toBe(9);
    expect(c.targetConfidentWrong).toBe(TARGET_CONFIDENT_WRONG);
    expect(c.threshold).toBeGreaterThanOrEqual(0.3);
    expect(c.expectedHandOffRate).toBeGreaterThanOrEqual(0);
    expect(c.expectedHandOffRate).toBeLessThanOrEqual(1);
    // 0.99 is stricter than any calibrated threshold here: at least as many questions go to a person.
    expect(c.handOffRateAtCurrentThreshold!).toBeGreaterThanOrEqual(c.expectedHandOffRate!);
  });

  it('remembers the result until the articles or the current threshold change', async () => {
    const cache = new CalibrationCache();
    const first = await cache.get('t', kb, 0.8);
    expect(await cache.get('t', kb, 0.8)).toBe(first);
    const edited = [...kb.slice(0, 2), { ...kb[2]!, updatedAt: '2026-12-01T01:00:00.000Z' }];
    expect(await cache.get('t', edited, 0.8)).not.toBe(first);
    expect(await cache.get('t', edited, 0.7)).not.toBe(await cache.get('t', edited, 0.8));
  });

  it('has no threshold when no article has a question to hold out', async () => {
    const c = await new CalibrationCache().get('t', [article('a', 'A', ['only one']), article('b', 'B', [])], 0.8);
    expect(c.threshold).toBeNull();
    expect(c.expectedHandOffRate).toBeNull();
    expect(c.questionsAsked).toBe(0);
  });

  /** 3k questions: a calibration that takes seconds of CPU (the test's budget; 10k-question tenants take longer). */
  const words = ['card', 'money', 'transfer', 'account', 'pin', 'limit', 'fee', 'refund', 'loan', 'atm', 'cash', 'rate'];
  const large = (salt: string): ArticleRecord[] =>
    Array.from({ length: 120 }, (_, a) =>
      article(
        `a${a}`,
        `Topic ${a} ${salt}`,
        Array.from({ length: 25 }, (_, q) => `${words[(a + q) % 12]} ${words[(a * 7 + q) % 12]} question ${q} topic${a}`),
      ),
    );

  it("keeps the event loop responsive while a large knowledge base is calibrated (other tenants' requests are served)", async () => {
    // Waits as long as the test may run: the CI box is shared (HELPERS.md), a busy answer is not the point here.
    const cache = new CalibrationCache({ waitMs: 110_000 });
    // The main thread's busy time between ticks of a 10 ms timer: how long it could not serve another request.
    // Busy time, not the wall-clock gap between ticks: on a shared 2-core CI box the OS may leave an idle loop
    // unscheduled for half a second, which says nothing about where the calibration runs.
    // (perf_hooks.monitorEventLoopDelay records nothing under jest's environment: its count stays 0.)
    let sinceTick = performance.eventLoopUtilization();
    let longestBusy = 0;
    const ticker = setInterval(() => {
      longestBusy = Math.max(longestBusy, performance.eventLoopUtilization(sinceTick).active);
      sinceTick = performance.eventLoopUtilization();
    }, 10);
    const atStart = performance.eventLoopUtilization();
    try {
      const c = await cache.get('t-large', large('x'), 0.8);
      expect(c.questionsAsked).toBeGreaterThan(1_500);
    } finally {
      clearInterval(ticker);
    }
    // A loop blocked to the end never ran the timer at all: the busy time since its last tick counts too.
    longestBusy = Math.max(longestBusy, performance.eventLoopUtilization(sinceTick).active);
    const busy = performance.eventLoopUtilization(atStart);
    const wallMs = busy.idle + busy.active;
    // The calibration itself took long; the main thread was busy for a small part of it and never for long
    // at once. Both bounds are shares of the calibration's time, not milliseconds: on the loaded CI box busy
    // stretches grow with the wall time (246 ms seen with the run in its worker; inline, 5.2 s of 5.2 s).
    expect(wallMs).toBeGreaterThan(500);
    expect(busy.active).toBeLessThan(wallMs / 4);
    expect(longestBusy).toBeLessThan(wallMs / 4);
  }, 120_000);

  /** A calibrator whose runs finish when the test says so. */
  class Held implements Calibrator {
    calls = 0;
    private finish: ((c: TenantCalibration | null) => void) | null = null;
    calibrate(): Promise<TenantCalibration | null> {
      this.calls++;
      return new Promise((resolve) => (this.finish = resolve));
    }
    done(): void {
      this.finish?.({ threshold: 0.5, targetConfidentWrong: TARGET_CONFIDENT_WRONG, confidentWrong: 0.01, handOff: 0.2, asked: 9 });
    }
    async close(): Promise<void> {}
  }

  it('shares one run between concurrent requests, and answers CALIBRATION_BUSY past the wait while the run goes on', async () => {
    const held = new Held();
    const cache = new CalibrationCache({ calibrator: held, waitMs: 100 });
    const first = cache.get('t', kb, 0.8);
    const second = cache.get('t', kb, 0.8);
    await expect(first).rejects.toMatchObject({ extensions: { code: 'SERVICE_UNAVAILABLE', reason: 'CALIBRATION_BUSY' } });
    await expect(second).rejects.toMatchObject({ extensions: { code: 'SERVICE_UNAVAILABLE' } });
    expect(((await first.catch((e: unknown) => e)) as GraphQLError).message).toMatch(/ask again/);
    held.done();
    // The run was not abandoned: the next request gets its result without calibrating again.
    expect((await cache.get('t', kb, 0.8)).threshold).toBe(0.5);
    expect(held.calls).toBe(1);
  });

  it('calibrates in a worker thread that exits when idle and starts again for the next calibration', async () => {
    // The knowledge package's built worker script (`npm run build` runs before the tests); never skipped.
    const worker = new WorkerModelBuilder(BUILD_WORKER_SCRIPT, {}, { idleExitMs: 200 });
    try {
      const cache = new CalibrationCache({ calibrator: worker });
      expect((await cache.get('t', kb, 0.8)).questionsAsked).toBe(9);
      expect(worker.running).toBe(true);
      await new Promise((r) => setTimeout(r, 600));
      expect(worker.running).toBe(false);
      expect((await cache.get('t', kb, 0.7)).questionsAsked).toBe(9);
    } finally {
      await worker.close();
    }
  });
});
