/**
 * Push-to-pull for subscription results: the transport pushes, the caller iterates. `return()`
 * (a `break` out of for-await) ends the subscription at once, even while waiting.
 */
export class PushQueue<T> implements AsyncIterableIterator<T> {
  private readonly buffer: T[] = [];
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | null = null;
  private state: { done: false } | { done: true; error?: unknown } = { done: false };

  constructor(private readonly onReturn: () => void) {}

  push(value: T): void {
    if (this.state.done) return;
    if (this.waiter) {
      const { resolve } = this.waiter;
      this.waiter = null;
      resolve({ value, done: false });
    } else this.buffer.push(value);
  }

  end(error?: unknown): void {
    if (this.state.done) return;
    this.state = error === undefined ? { done: true } : { done: true, error };
    if (this.waiter && this.buffer.length === 0) {
      const waiter = this.waiter;
      this.waiter = null;
      this.settle(waiter);
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.buffer.length > 0) return Promise.resolve({ value: this.buffer.shift() as T, done: false });
    if (this.state.done) return new Promise((resolve, reject) => this.settle({ resolve, reject }));
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    const wasOpen = !this.state.done;
    this.buffer.length = 0;
    this.state = { done: true };
    if (this.waiter) this.waiter.resolve({ value: undefined, done: true });
    this.waiter = null;
    if (wasOpen) this.onReturn();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  private settle(waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void }): void {
    const state = this.state as { done: true; error?: unknown };
    if (state.error !== undefined) {
      const error = state.error;
      this.state = { done: true };
      waiter.reject(error);
    } else waiter.resolve({ value: undefined, done: true });
  }
}
