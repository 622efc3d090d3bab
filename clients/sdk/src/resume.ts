import { PushQueue } from './subscribe-queue';
import type { AnswerEvent, ResumeAnswerSnapshot } from './types';

/**
 * An answer stream that survives its connection: when the gateway it runs through goes away (killed,
 * restarted, its socket cut), it subscribes again (the client then uses its next gateway URL) and reads
 * each open answer's stored progress (`Answer.streamed`: the text streamed so far and the seq of its last
 * TOKEN, read atomically by the answer service) to fill what it missed. The caller sees every answer's text
 * once and in order, then its final event once:
 *
 * - a TOKEN is delivered only when its seq follows the last one delivered; older seqs (sent again, or
 *   seen on both the snapshot and the new subscription) are dropped; a later seq waits until the gap is
 *   filled by a snapshot or by the pieces in between;
 * - what was missed arrives as one catch-up TOKEN: the missing text, with the seq of the last piece it
 *   covers (from the snapshot; for an answer that became final meanwhile, the seq after the last delivered);
 * - an answer that became final while the stream was away gets its final event built from the stored
 *   answer (DONE, FALLBACK, or ERROR for FAILED), so a client never waits for an event that was published
 *   to nobody.
 *
 * Pub/sub keeps nothing, so a subscription only hears events published after it reached the answer
 * service, and graphql-ws does not say when that was: every answer that has been quiet for `idleCheckMs`
 * is read from the store too, which also ends the wait for a final event lost in that window.
 */
export interface ResumeOptions {
  /** How long to go on reconnecting after the stream broke before ending with its error (default 60 s). */
  reconnectForMs?: number;
  /** An open answer without an event for this long is read from the store (default 2000 ms). */
  idleCheckMs?: number;
}

/** What the stream needs from the client: a fresh subscription, and an answer's stored state. */
export interface ResumeHost {
  subscribe(sessionId: string): AsyncIterableIterator<AnswerEvent>;
  snapshot(answerId: string): Promise<ResumeAnswerSnapshot | null>;
}

/** Errors after which subscribing again cannot help (the caller may not follow this session). */
const PERMANENT = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED', 'PERSISTED_ONLY']);

const FINAL_EVENT: Record<string, AnswerEvent['kind'] | undefined> = { DONE: 'DONE', FALLBACK: 'FALLBACK', FAILED: 'ERROR' };
const ANSWER_KINDS: ReadonlySet<string> = new Set(['QUEUED', 'TOKEN', 'DONE', 'FALLBACK', 'ERROR']);

interface Progress {
  /** Seq of the last TOKEN (or catch-up) delivered. */
  lastSeq: number;
  /** The answer's text delivered so far (the deltas concatenated). */
  text: string;
  queuedSent: boolean;
  final: boolean;
  /** TOKENs that arrived ahead of a gap, by seq. */
  early: Map<number, AnswerEvent>;
  lastEventAt: number;
  reading: boolean;
}

const codeOf = (error: unknown): string =>
  error && typeof error === 'object' && 'code' in error ? String((error as { code: unknown }).code) : '';

export class ResumableAnswerStream implements AsyncIterableIterator<AnswerEvent> {
  private readonly out: PushQueue<AnswerEvent>;
  private readonly answers = new Map<string, Progress>();
  /** Handoff updates already delivered (their id is their answerId). */
  private readonly handoffSeen = new Set<string>();
  private live: AsyncIterableIterator<AnswerEvent> | null = null;
  private stopped = false;
  private readonly idleTimer: ReturnType<typeof setInterval>;
  private readonly idleCheckMs: number;
  private readonly reconnectForMs: number;
  /** How many times the stream subscribed again after losing its subscription. */
  resumes = 0;

  constructor(
    private readonly host: ResumeHost,
    private readonly sessionId: string,
    options: ResumeOptions = {},
  ) {
    this.idleCheckMs = options.idleCheckMs ?? 2_000;
    this.reconnectForMs = options.reconnectForMs ?? 60_000;
    this.out = new PushQueue<AnswerEvent>(() => this.stop());
    this.idleTimer = setInterval(() => this.readQuietAnswers(), Math.max(100, this.idleCheckMs / 2));
    this.idleTimer.unref?.();
    void this.run();
  }

  /** Follows `answerId` even before any of its events arrived (the client calls this for its own asks). */
  track(answerId: string): void {
    if (!this.answers.has(answerId)) this.answers.set(answerId, this.fresh());
  }

  next(): Promise<IteratorResult<AnswerEvent>> {
    return this.out.next();
  }

  return(): Promise<IteratorResult<AnswerEvent>> {
    return this.out.return();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<AnswerEvent> {
    return this;
  }

  private fresh(): Progress {
    return { lastSeq: 0, text: '', queuedSent: false, final: false, early: new Map(), lastEventAt: Date.now(), reading: false };
  }

  private stop(): void {
    this.stopped = true;
    clearInterval(this.idleTimer);
    void this.live?.return?.();
  }

  private async run(): Promise<void> {
    let brokenSince: number | null = null;
    let attempt = 0;
    while (!this.stopped) {
      const live = this.host.subscribe(this.sessionId);
      this.live = live;
      if (brokenSince !== null) {
        this.resumes++;
        this.readAll();
      }
      let failure: unknown = null;
      try {
        for await (const event of live) {
          brokenSince = null;
          attempt = 0;
          this.onEvent(event);
        }
      } catch (error) {
        failure = error;
      }
      if (this.stopped) return;
      if (failure !== null && PERMANENT.has(codeOf(failure))) return this.end(failure);
      // A session's stream never ends by itself: ended or broken, the gateway (or its subgraph) went away.
      brokenSince ??= Date.now();
      if (Date.now() - brokenSince > this.reconnectForMs) return this.end(failure ?? new Error('The answer stream ended'));
      const backoff = Math.min(2_000, 100 * 2 ** attempt++) * (0.5 + Math.random() / 2);
      await new Promise((resolve) => setTimeout(resolve, backoff));
    }
  }

  private end(error: unknown): void {
    clearInterval(this.idleTimer);
    this.out.end(error);
  }

  private onEvent(event: AnswerEvent): void {
    if (!ANSWER_KINDS.has(event.kind)) {
      // Human-handoff updates: each once (their answerId is the update's id).
      if (this.handoffSeen.has(event.answerId)) return;
      this.handoffSeen.add(event.answerId);
      this.out.push(event);
      return;
    }
    this.track(event.answerId);
    const progress = this.answers.get(event.answerId)!;
    progress.lastEventAt = Date.now();
    if (progress.final) return;
    if (event.kind === 'QUEUED') {
      if (!progress.queuedSent && progress.lastSeq === 0) this.out.push(event);
      progress.queuedSent = true;
      return;
    }
    if (event.kind === 'TOKEN') {
      if (event.seq <= progress.lastSeq) return;
      progress.early.set(event.seq, event);
      this.drain(progress);
      if (progress.early.size > 0) void this.read(event.answerId);
      return;
    }
    // A final event: anything missed before it first (from the final text), then the event once.
    this.drain(progress);
    const text = event.answer?.text;
    if (text !== undefined) this.catchUpFinal(event.answerId, progress, text);
    progress.final = true;
    progress.early.clear();
    this.out.push({ ...event, seq: Math.max(event.seq, progress.lastSeq + 1) });
  }

  /** Delivers the waiting TOKENs that now follow the last seq delivered. */
  private drain(progress: Progress): void {
    for (let next = progress.early.get(progress.lastSeq + 1); next; next = progress.early.get(progress.lastSeq + 1)) {
      progress.early.delete(next.seq);
      progress.lastSeq = next.seq;
      progress.text += next.delta ?? '';
      this.out.push(next);
    }
    for (const seq of progress.early.keys()) if (seq <= progress.lastSeq) progress.early.delete(seq);
  }

  /** One TOKEN with the text stored beyond what was delivered, standing for every piece up to `seq`. */
  private catchUp(answerId: string, progress: Progress, storedText: string, seq: number): void {
    if (seq <= progress.lastSeq || !storedText.startsWith(progress.text) || storedText.length === progress.text.length) return;
    const delta = storedText.slice(progress.text.length);
    progress.text = storedText;
    progress.lastSeq = seq;
    this.out.push({ answerId, seq, kind: 'TOKEN', delta, queuePosition: null, answer: null } as AnswerEvent);
    this.drain(progress);
  }

  /**
   * Before a final event: the rest of the final text, when the answer was being streamed and the final
   * text continues what was delivered (a FALLBACK or FAILED answer replaces it instead: nothing to add).
   */
  private catchUpFinal(answerId: string, progress: Progress, finalText: string): void {
    if (progress.lastSeq > 0 || progress.early.size > 0) this.catchUp(answerId, progress, finalText, progress.lastSeq + 1);
  }

  private readAll(): void {
    for (const [answerId, progress] of this.answers) if (!progress.final) void this.read(answerId);
  }

  private readQuietAnswers(): void {
    const quietSince = Date.now() - this.idleCheckMs;
    for (const [answerId, progress] of this.answers) {
      if (progress.final) this.answers.delete(answerId);
      else if (progress.lastEventAt < quietSince) void this.read(answerId);
    }
  }

  /** Reads the stored answer and delivers what the stream missed of it. Failures wait for the next check. */
  private async read(answerId: string): Promise<void> {
    const progress = this.answers.get(answerId);
    if (!progress || progress.final || progress.reading) return;
    progress.reading = true;
    let answer: ResumeAnswerSnapshot | null;
    try {
      answer = await this.host.snapshot(answerId);
    } catch {
      return;
    } finally {
      progress.reading = false;
      progress.lastEventAt = Date.now();
    }
    if (!answer || progress.final || this.stopped) return;
    if (answer.status === 'WITH_HUMAN') {
      // A person answers it: its updates come as handoff events, the engine will send nothing more.
      progress.final = true;
      return;
    }
    const finalKind = FINAL_EVENT[answer.status];
    if (finalKind) {
      this.drain(progress);
      this.catchUpFinal(answerId, progress, answer.text);
      progress.final = true;
      progress.early.clear();
      const { streamed: _streamed, ...stored } = answer;
      this.out.push({
        answerId,
        seq: progress.lastSeq + 1,
        kind: finalKind,
        delta: null,
        queuePosition: null,
        answer: stored,
      } as AnswerEvent);
      return;
    }
    if (answer.streamed) this.catchUp(answerId, progress, answer.streamed.text, answer.streamed.seq);
  }
}
