/** Thrown into a stream whose consumer fell more than `limit` items behind. */
export class QueueOverflowError extends Error {
  constructor(readonly limit: number) {
    super(`more than ${limit} events waiting for a slow consumer`);
    this.name = 'QueueOverflowError';
  }
}

type Waiter<T> = { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void };

/**
 * A push-to-pull bridge with a bound: producers `push`, one consumer iterates. Unlike an async
 * generator, `return()` takes effect at once even while the consumer is parked in `next()`, which
 * is what lets an unsubscribe release its upstream immediately. Past `limit` buffered items the
 * queue fails with QueueOverflowError instead of growing memory.
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private readonly buffer: T[] = [];
  private readonly waiters: Waiter<T>[] = [];
  private finished = false;
  private failure: { error: unknown } | null = null;
  private closed = false;

  constructor(
    private readonly limit: number,
    /** Runs once when the consumer stops early (return) or the queue is closed by its producer. */
    private readonly onClose: () => void = () => undefined,
  ) {}

  get size(): number {
    return this.buffer.length;
  }

  get isOpen(): boolean {
    return !this.finished && !this.closed;
  }

  /** False when the value was dropped: the queue is closed, or it just overflowed. */
  push(value: T): boolean {
    if (!this.isOpen) return false;
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter.resolve({ value, done: false });
      return true;
    }
    if (this.buffer.length >= this.limit) {
      this.fail(new QueueOverflowError(this.limit));
      return false;
    }
    this.buffer.push(value);
    return true;
  }

  /** Ends the stream after what is buffered has been consumed. */
  end(): void {
    if (!this.isOpen) return;
    this.finished = true;
    this.settleWaiters();
    this.release();
  }

  /** Ends the stream with `error`, after what is buffered has been consumed. */
  fail(error: unknown): void {
    if (!this.isOpen) return;
    this.finished = true;
    this.failure = { error };
    this.settleWaiters();
    this.release();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.buffer.length > 0) return Promise.resolve({ value: this.buffer.shift() as T, done: false });
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    if (this.finished) {
      this.closed = true;
      const failure = this.failure;
      return failure ? Promise.reject(failure.error) : Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** The consumer is done: drop the buffer and release the producer now. */
  return(): Promise<IteratorResult<T>> {
    this.buffer.length = 0;
    const wasOpen = this.isOpen;
    this.closed = true;
    this.finished = true;
    for (const waiter of this.waiters.splice(0)) waiter.resolve({ value: undefined, done: true });
    if (wasOpen) this.release();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error: unknown): Promise<IteratorResult<T>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  private settleWaiters(): void {
    // Waiters only exist while the buffer is empty, so they get the end (or the failure) at once.
    const waiters = this.waiters.splice(0);
    if (waiters.length === 0) return;
    this.closed = true;
    for (const waiter of waiters) {
      if (this.failure) waiter.reject(this.failure.error);
      else waiter.resolve({ value: undefined, done: true });
    }
  }

  private released = false;
  private release(): void {
    if (this.released) return;
    this.released = true;
    this.onClose();
  }
}
