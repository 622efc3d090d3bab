/**
 * Writes an answer's streamed pieces in order, one write at a time; pieces that arrive while a write is
 * in flight go together in the next write. An engine that has the whole answer at once (the built-in
 * one) then costs two writes and two events instead of one per piece, through Redis, the answer
 * subgraph, the gateway and the client; an engine streaming at network pace (an LLM) still gets one
 * write per token, because each write is done before its next token arrives. The text and its order are
 * unchanged; only where the pieces are cut.
 */
export class CoalescingStream {
  private pending = '';
  private writing: Promise<void> | null = null;
  private failure: { error: unknown } | null = null;

  constructor(private readonly write: (delta: string) => Promise<void>) {}

  /** Queues a piece; throws the error of an earlier write that failed (nothing more is written then). */
  push(delta: string): void {
    if (this.failure) throw this.failure.error;
    this.pending += delta;
    this.writing ??= this.drain();
  }

  /** Resolves once every queued piece is written; rejects with the error of a write that failed. */
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
        const delta = this.pending;
        this.pending = '';
        await this.write(delta);
      }
    } catch (error) {
      this.failure = { error };
      this.pending = '';
    } finally {
      this.writing = null;
    }
  }
}
