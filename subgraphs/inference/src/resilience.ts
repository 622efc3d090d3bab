import {
  BrokenCircuitError,
  CircuitState,
  circuitBreaker,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleWhen,
  retry,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import type { InferenceRequest } from '@beedesk/runtime';
import { EngineUnavailableError, isChinese, type AnswerEngine, type EngineAnswer, type EngineCall } from './engines/types';

export interface ResilienceOptions {
  /** Attempts after the first, only while no token has reached the user. */
  maxRetries: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** Consecutive failures that open the circuit. */
  breakerThreshold: number;
  /** How long an open circuit waits before letting one trial request through. */
  halfOpenAfterMs: number;
}

export type BreakerStateName = 'CLOSED' | 'OPEN' | 'HALF_OPEN';
const STATE_NAMES: Record<CircuitState, BreakerStateName> = {
  [CircuitState.Closed]: 'CLOSED',
  [CircuitState.Open]: 'OPEN',
  [CircuitState.HalfOpen]: 'HALF_OPEN',
  [CircuitState.Isolated]: 'OPEN',
};
/** How bad a breaker state is (also its metric value): closed 0, half-open 1, open 2. */
export const BREAKER_SEVERITY: Record<BreakerStateName, number> = { CLOSED: 0, HALF_OPEN: 1, OPEN: 2 };

/** The engine could not answer (circuit open, retries exhausted, or it failed mid-stream). */
export class EngineFallbackError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'EngineFallbackError';
  }
}

export function fallbackText(question: string): string {
  return isChinese(question) ? '系统繁忙，请稍后再试。' : 'The system is busy, please try again shortly.';
}

/** One circuit breaker per engine endpoint, shared by every tenant using that endpoint. */
export class BreakerRegistry {
  private readonly breakers = new Map<string, CircuitBreakerPolicy>();
  private readonly listeners: ((endpoint: string, state: BreakerStateName) => void)[] = [];

  constructor(readonly options: ResilienceOptions) {}

  breakerFor(endpoint: string): CircuitBreakerPolicy {
    let breaker = this.breakers.get(endpoint);
    if (!breaker) {
      breaker = circuitBreaker(
        handleWhen((e) => e instanceof EngineUnavailableError),
        {
          halfOpenAfter: this.options.halfOpenAfterMs,
          breaker: new ConsecutiveBreaker(this.options.breakerThreshold),
        },
      );
      breaker.onStateChange((state) => this.listeners.forEach((listen) => listen(endpoint, STATE_NAMES[state])));
      this.breakers.set(endpoint, breaker);
    }
    return breaker;
  }

  onStateChange(listener: (endpoint: string, state: BreakerStateName) => void): void {
    this.listeners.push(listener);
  }

  states(): Record<string, BreakerStateName> {
    return Object.fromEntries([...this.breakers].map(([endpoint, b]) => [endpoint, STATE_NAMES[b.state]]));
  }

  /** The most severe state over all endpoints (what inferenceStatus.breaker reports). */
  worstState(): BreakerStateName {
    return Object.values(this.states()).reduce<BreakerStateName>(
      (worst, s) => (BREAKER_SEVERITY[s] > BREAKER_SEVERITY[worst] ? s : worst),
      'CLOSED',
    );
  }
}

/**
 * Wraps an engine with retries (exponential back-off with decorrelated jitter, only before any
 * token reached the user; as set in the registry's options) inside its endpoint's circuit breaker.
 * Whatever still fails becomes an EngineFallbackError, which the worker turns into a polite FALLBACK answer.
 */
export class ResilientEngine implements AnswerEngine {
  readonly name: string;
  readonly endpoint: string;

  constructor(
    private readonly inner: AnswerEngine,
    private readonly breakers: BreakerRegistry,
  ) {
    this.name = inner.name;
    this.endpoint = inner.endpoint;
  }

  async answer(request: InferenceRequest, call: EngineCall): Promise<EngineAnswer> {
    let streamed = false;
    const onToken = async (delta: string) => {
      streamed = true;
      await call.onToken(delta);
    };
    const options = this.breakers.options;
    const retrying = retry(
      handleWhen((e) => !streamed && e instanceof EngineUnavailableError && e.retryable),
      {
        maxAttempts: options.maxRetries,
        backoff: new ExponentialBackoff({ initialDelay: options.initialDelayMs, maxDelay: options.maxDelayMs }),
      },
    );
    const breaker = this.breakers.breakerFor(this.endpoint);
    try {
      return await retrying.execute(() => breaker.execute(() => this.inner.answer(request, { ...call, onToken })));
    } catch (error) {
      if (error instanceof BrokenCircuitError) throw new EngineFallbackError(`circuit open for ${this.endpoint}`);
      if (error instanceof EngineUnavailableError) {
        throw new EngineFallbackError(streamed ? `failed mid-stream: ${error.message}` : `gave up: ${error.message}`);
      }
      throw error;
    }
  }
}
