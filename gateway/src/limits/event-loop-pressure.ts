/**
 * Whether this gateway process is short of CPU now, from its event loop's delay (as @fastify/under-pressure
 * and most load-shedding middleware judge it): when the loop's timers fire late, the process waits for a
 * core, and so do the processes beside it on a saturated machine. The fair share (fair-share.ts) holds a
 * busy tenant to a tighter bound only then, so a tenant keeps its larger share while the machine has room.
 *
 * The delay is sampled by Node's own histogram (perf_hooks.monitorEventLoopDelay, a 10 ms timer); every
 * `sampleMs` its mean lateness is compared with `thresholdMs` and the histogram is reset. The mean, not a
 * high percentile: a window holds ~25 samples, so its p99 is its single worst tick, which one long
 * request makes (measured with bench:fairness, README "Fair share": p99 lateness 1–12 ms in quiet windows
 * and 5–26 ms in a burst, overlapping; mean 0.1–0.8 ms quiet and 0.6–5.5 ms in the burst, mostly past 1).
 * Pressure lasts `holdMs` past the last late window, so the bound does not flap within one burst.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

const RESOLUTION_MS = 10;

export interface EventLoopPressureSettings {
  /** A window whose mean event-loop lateness (ms) exceeds this is under pressure; 0: never under pressure. */
  thresholdMs: number;
  sampleMs: number;
  holdMs: number;
}

/** Pure: each window's lateness and the clock in, under pressure or not out. */
export class PressureState {
  private lateUntil = -Infinity;
  private latestMs = 0;

  constructor(private readonly settings: EventLoopPressureSettings) {}

  /** Records one window's mean lateness, seen at `now` (ms). */
  observe(latenessMs: number, now: number): void {
    this.latestMs = latenessMs;
    if (this.settings.thresholdMs > 0 && latenessMs > this.settings.thresholdMs) this.lateUntil = now + this.settings.holdMs;
  }

  underPressure(now: number): boolean {
    return now < this.lateUntil;
  }

  /** The last window's mean lateness (ms), for metrics. */
  get lastLatenessMs(): number {
    return this.latestMs;
  }
}

export class EventLoopPressure {
  private readonly state: PressureState;
  private readonly histogram: IntervalHistogram | undefined;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    settings: EventLoopPressureSettings,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.state = new PressureState(settings);
    if (settings.thresholdMs <= 0) return;
    // The histogram's own timer costs next to nothing at this rate.
    const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    histogram.enable();
    this.histogram = histogram;
    this.timer = setInterval(() => {
      // The histogram records each tick's whole delay, the resolution it waits anyway included.
      this.state.observe(histogram.count > 0 ? Math.max(0, histogram.mean / 1e6 - RESOLUTION_MS) : 0, this.now());
      histogram.reset();
    }, settings.sampleMs);
    this.timer.unref();
  }

  underPressure(): boolean {
    return this.state.underPressure(this.now());
  }

  get lastLatenessMs(): number {
    return this.state.lastLatenessMs;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.histogram?.disable();
  }
}
