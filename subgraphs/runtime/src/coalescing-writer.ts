/**
 * Sends writes one at a time; what is added while a write is in flight is merged and goes in the next
 * write. Under load the writes grow and their number falls (one round trip, one syscall each); when
 * each write is done before the next addition, every addition is written alone, at once.
 *
 * Used for an answer's streamed text (pieces joined: the built-in engine, which has its whole answer at
 * once, costs two writes instead of one per piece) and for a consumer's offset commits (the latest offset
 * per partition: one commit in flight instead of one per answer).
 */
export class CoalescingWriter<T> {
  private pending: { value: T } | null = null;
  private writing: Promise<void> | null = null;
  private failure: { error: unknown } | null = null;

  constructor(
    /** Folds an addition into what already waits. */
    private readonly merge: (waiting: T, added: T) => T,
    private readonly write: (value: T) => Promise<void>,
  ) {}

  /** Queues a value; throws the error of an earlier write that failed (nothing more is written then). */
  add(value: T): void {
    if (this.failure) throw this.failure.error;
    this.pending = { value: this.pending ? this.merge(this.pending.value, value) : value };
    this.writing ??= this.drain();
  }

  /** Resolves once everything queued is written; rejects with the error of a write that failed. */
  async flush(): Promise<void> {
    await this.settled();
    if (this.failure) throw this.failure.error;
  }

  /** Resolves once no write is in flight, whether or not the writes succeeded. */
  async settled(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending && !this.failure) {
        const { value } = this.pending;
        this.pending = null;
        await this.write(value);
      }
    } catch (error) {
      this.failure = { error };
      this.pending = null;
    } finally {
      this.writing = null;
    }
  }
}

/** Merge for text: the pieces joined in order. */
export const joinText = (waiting: string, added: string): string => waiting + added;
