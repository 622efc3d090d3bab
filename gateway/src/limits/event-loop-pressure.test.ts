import { EventLoopPressure, PressureState } from './event-loop-pressure';

const SETTINGS = { thresholdMs: 1, sampleMs: 250, holdMs: 2000 };

describe('PressureState', () => {
  it('is under pressure from a late window until the hold has passed since the last one', () => {
    const state = new PressureState(SETTINGS);
    expect(state.underPressure(0)).toBe(false);
    state.observe(0.4, 250);
    expect(state.underPressure(250)).toBe(false);
    state.observe(3, 500);
    expect(state.underPressure(500)).toBe(true);
    state.observe(0.2, 750);
    expect(state.underPressure(2499)).toBe(true);
    state.observe(1.5, 1000); // late again: the hold runs from here
    expect(state.underPressure(2999)).toBe(true);
    expect(state.underPressure(3000)).toBe(false);
    expect(state.lastLatenessMs).toBe(1.5);
  });

  it('is never under pressure with the threshold 0', () => {
    const state = new PressureState({ ...SETTINGS, thresholdMs: 0 });
    state.observe(500, 0);
    expect(state.underPressure(1)).toBe(false);
  });
});

describe('EventLoopPressure', () => {
  it("comes under pressure when this process's event loop is held up", async () => {
    const pressure = new EventLoopPressure({ thresholdMs: 1, sampleMs: 100, holdMs: 60_000 });
    try {
      expect(pressure.underPressure()).toBe(false);
      // Synchronous work that keeps the loop's 10 ms timer from firing for 50 ms at a time, until a window
      // has seen it (the histogram's first tick after it is enabled only starts its clock) or 5 s have passed.
      const deadline = performance.now() + 5000;
      while (!pressure.underPressure() && performance.now() < deadline) {
        const until = performance.now() + 50;
        while (performance.now() < until);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(pressure.underPressure()).toBe(true);
      expect(pressure.lastLatenessMs).toBeGreaterThan(1);
      expect(pressure.lastLatenessMs).toBeGreaterThanOrEqual(0);
    } finally {
      pressure.close();
    }
  }, 10_000);

  it('measures nothing with the threshold 0', () => {
    const pressure = new EventLoopPressure({ thresholdMs: 0, sampleMs: 100, holdMs: 1000 });
    expect(pressure.underPressure()).toBe(false);
    pressure.close();
  });
});
