import { BeedeskError, type AnswerEvent, type BeedeskClient } from '@beedesk/sdk';

/**
 * Steady asks with streaming subscribers, for the chaos scenarios (issue 16 point 4): every `everyMs` a new
 * user of one of `tenants` starts a session, subscribes to its answer stream, asks, and follows the stream
 * to the final event (or, when the stream ends early — a gateway or Redis node went away — polls the
 * answer). Afterwards `verify` checks every accepted ask was answered, exactly once.
 */
export interface AskRecord {
  tenant: string;
  user: string;
  sentAt: number;
  /** Set when `ask` returned a receipt. */
  answerId?: string;
  sessionId?: string;
  /** Why the ask (or its session) was refused; not a loss: the caller saw the error. */
  refused?: string;
  /** The refusal's `extensions.code` (or the transport's, e.g. CONNECTION_FAILED). */
  refusedCode?: string;
  /** ask sent → first TOKEN event on the subscription, when the subscription saw one. */
  firstTokenMs?: number;
  /** Events seen on the stream for this answer, by seq: a repeated seq is a duplicate delivery. */
  seqs: number[];
  status?: string;
  doneAfterMs?: number;
  /** The final answer's text, as stored. */
  text?: string;
  /** The TOKEN deltas seen on the stream, concatenated. */
  streamedText: string;
  /** The stream delivered the answer's final event. */
  streamFinal: boolean;
}

export interface LoadOptions {
  tenants: string[];
  everyMs: number;
  clientFor(tenant: string, user: string): Promise<BeedeskClient>;
  question: string;
  answerTimeoutMs?: number;
  /** The session's answer stream (default `client.answerStream`; `followAnswers` resumes across reconnects). */
  streamOf?(client: BeedeskClient, sessionId: string): AsyncIterableIterator<AnswerEvent>;
  /** How long the stream may trail the stored answer's becoming final before it is closed (default 1 s). */
  streamGraceMs?: number;
}

const FINAL = new Set(['DONE', 'FALLBACK', 'ERROR']);

async function followStream(record: AskRecord, stream: AsyncIterableIterator<AnswerEvent>): Promise<void> {
  try {
    for await (const event of stream) {
      if (record.answerId && event.answerId !== record.answerId) continue;
      if (event.kind === 'QUEUED') continue;
      record.seqs.push(event.seq);
      if (event.kind === 'TOKEN' && record.firstTokenMs === undefined) record.firstTokenMs = Date.now() - record.sentAt;
      if (event.kind === 'TOKEN') record.streamedText += event.delta ?? '';
      if (FINAL.has(event.kind)) {
        record.streamFinal = true;
        break;
      }
    }
  } catch {
    // The stream ended with an error (a node went away): the answer is reconciled by polling below.
  } finally {
    await stream.return?.();
  }
}

export function startSteadyLoad(options: LoadOptions): { stop(): Promise<AskRecord[]>; sent(): number } {
  const pending: Promise<AskRecord>[] = [];
  let n = 0;
  const one = async (tenant: string, user: string): Promise<AskRecord> => {
    const record: AskRecord = { tenant, user, sentAt: Date.now(), seqs: [], streamedText: '', streamFinal: false };
    const client = await options.clientFor(tenant, user);
    let stream: AsyncIterableIterator<AnswerEvent>;
    let following: Promise<void>;
    try {
      const session = await client.startSession();
      record.sessionId = session.id;
      stream = options.streamOf ? options.streamOf(client, session.id) : client.answerStream(session.id);
      following = followStream(record, stream);
      // The subscription reaches the answer service before the question does (graphql-ws has no ack per
      // subscription); a short pause keeps the first token from racing it.
      await new Promise((r) => setTimeout(r, 150));
      record.sentAt = Date.now();
      const receipt = await client.ask(session.id, options.question, `${user}-1`);
      record.answerId = receipt.answer.id;
    } catch (error) {
      record.refused = (error as Error).message;
      record.refusedCode = error instanceof BeedeskError ? error.code : 'NOT_A_GRAPHQL_ERROR';
      await client.close();
      return record;
    }
    const timeout = options.answerTimeoutMs ?? 60_000;
    // The stored answer is the truth; the stream may have lost events while a node was away (pub/sub
    // keeps nothing), so it gets a second after the answer is final, then it is closed.
    // Polling goes on through a restarting gateway or subgraph (a refused poll is not an answer).
    const deadline = Date.now() + timeout;
    for (;;) {
      try {
        const answer = await client.waitForAnswer(record.answerId, { timeoutMs: Math.max(0, deadline - Date.now()), intervalMs: 250 });
        record.status = answer.status;
        record.text = answer.text;
        record.doneAfterMs = Date.now() - record.sentAt;
        break;
      } catch (error) {
        if (Date.now() >= deadline) {
          record.status = `not final: ${(error as Error).message}`;
          break;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    await Promise.race([following, new Promise((r) => setTimeout(r, options.streamGraceMs ?? 1_000))]);
    await stream.return?.();
    await client.close();
    return record;
  };
  const timer = setInterval(() => {
    const tenant = options.tenants[n % options.tenants.length]!;
    pending.push(one(tenant, `load-${n++}`));
  }, options.everyMs);
  return {
    sent: () => n,
    stop: async () => {
      clearInterval(timer);
      return Promise.all(pending);
    },
  };
}

export function p95(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)]!;
}

export interface ChaosFigures {
  sent: number;
  accepted: number;
  answered: number;
  lost: number;
  duplicated: number;
  /** How long `ask` was refused at worst (ms): from a refused ask to the next accepted one. */
  longestRefusalMs: number;
  firstTokenP95: { before: number | null; during: number | null; after: number | null };
}

/**
 * The figures the issue asks for, from the records: `during` is [disruptedAt, recoveredAt). Lost: accepted
 * but not final. Duplicated: an answer with more than one assistant turn, or a stream that delivered one
 * seq twice (checked by `turnsOf`, which reads the session's turns).
 */
export async function chaosFigures(
  records: AskRecord[],
  window: { disruptedAt: number; recoveredAt: number },
  turnsOf: (record: AskRecord) => Promise<number>,
): Promise<ChaosFigures> {
  const accepted = records.filter((r) => r.answerId);
  const answered = accepted.filter((r) => r.status === 'DONE' || r.status === 'FALLBACK');
  let duplicated = 0;
  for (const record of answered) {
    const turns = await turnsOf(record);
    const repeatedSeq = new Set(record.seqs).size !== record.seqs.length;
    if (turns !== 1 || repeatedSeq) duplicated++;
  }
  // From each refused ask to the next ask sent after it that was accepted (or to the last ask sent).
  const bySent = [...records].sort((a, b) => a.sentAt - b.sentAt);
  let longestRefusalMs = 0;
  for (const [i, record] of bySent.entries()) {
    if (!record.refused) continue;
    const next = bySent.slice(i + 1).find((r) => r.answerId);
    longestRefusalMs = Math.max(longestRefusalMs, (next ?? bySent[bySent.length - 1]!).sentAt - record.sentAt);
  }
  const tokens = (from: number, to: number) =>
    p95(accepted.filter((r) => r.sentAt >= from && r.sentAt < to && r.firstTokenMs !== undefined).map((r) => r.firstTokenMs!));
  return {
    sent: records.length,
    accepted: accepted.length,
    answered: answered.length,
    lost: accepted.length - answered.length,
    duplicated,
    longestRefusalMs,
    firstTokenP95: {
      before: tokens(0, window.disruptedAt),
      during: tokens(window.disruptedAt, window.recoveredAt),
      after: tokens(window.recoveredAt, Infinity),
    },
  };
}

export function printFigures(label: string, figures: ChaosFigures, extra = ''): void {
  const ms = (v: number | null) => (v === null ? '–' : `${v} ms`);
  process.stdout.write(
    `chaos ${label}: asks sent ${figures.sent} / accepted ${figures.accepted} / answered ${figures.answered}, ` +
      `lost ${figures.lost}, duplicated ${figures.duplicated}, longest refusal ${figures.longestRefusalMs} ms, ` +
      `ask→first token p95 before ${ms(figures.firstTokenP95.before)} / during ${ms(figures.firstTokenP95.during)} / ` +
      `after ${ms(figures.firstTokenP95.after)}${extra ? `, ${extra}` : ''}\n`,
  );
}
