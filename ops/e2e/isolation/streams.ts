import WebSocket from 'ws';
import { BeedeskClient, BeedeskError, type SubscriptionProtocol } from '@beedesk/sdk';

/** What a subscription delivered before it ended, and the code it ended with (null: completed; STILL_OPEN: timed out). */
export interface Drained {
  values: unknown[];
  code: string | null;
  /** Every error payload seen, for the leak check (messages could carry data too). */
  errors: unknown[];
}

/** Reads a subscription to its end, or until `timeoutMs` (then unsubscribes and reports STILL_OPEN). */
export async function drain(iterator: AsyncIterableIterator<unknown>, timeoutMs = 10_000): Promise<Drained> {
  const values: unknown[] = [];
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  try {
    for (;;) {
      const step = await Promise.race([iterator.next(), timedOut]);
      if (step === 'timeout') {
        await iterator.return?.();
        return { values, code: 'STILL_OPEN', errors: [] };
      }
      if (step.done) return { values, code: null, errors: [] };
      values.push(step.value);
    }
  } catch (error) {
    if (error instanceof BeedeskError) return { values, code: error.code, errors: error.errors };
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** A client of the gateway speaking graphql-ws or SSE with the given token (none: no credential). */
export const subscriber = (url: string, token: string | undefined, headers: Record<string, string> = {}): BeedeskClient =>
  new BeedeskClient({ url, token, headers, webSocketImpl: WebSocket });

export function subscribeRaw(
  client: BeedeskClient,
  document: string,
  variables: Record<string, unknown>,
  protocol: SubscriptionProtocol,
): AsyncIterableIterator<unknown> {
  return client.subscribe({ document }, variables, { protocol });
}

/** An SSE subscription request with raw headers: the status and body of a refused one. */
export async function sseRefusal(
  url: string,
  headers: Record<string, string>,
  document: string,
  variables: Record<string, unknown>,
): Promise<{ status: number; text: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: JSON.stringify({ query: document, variables }),
    signal: AbortSignal.timeout(10_000),
  });
  if (response.status === 200) {
    // Accepted: read a little of the stream (if anything leaks it shows), then hang up.
    const reader = response.body!.getReader();
    const first = await Promise.race([reader.read(), new Promise<null>((r) => setTimeout(() => r(null), 2000))]);
    await reader.cancel().catch(() => undefined);
    return { status: 200, text: first && first.value ? Buffer.from(first.value).toString('utf8') : '' };
  }
  return { status: response.status, text: await response.text() };
}

/** What a raw graphql-ws conversation with a subgraph produced: the close code and every message received. */
export interface RawWsOutcome {
  closeCode: number | null;
  messages: { type: string; payload?: unknown }[];
}

/**
 * Talks graphql-transport-ws to a subgraph directly (bypassing the gateway): connection_init with
 * `connectionParams`, then optionally one subscribe; ends at the first close, `complete`, `error`,
 * or after `timeoutMs`.
 */
export function rawSubgraphWs(
  url: string,
  connectionParams: Record<string, unknown>,
  subscribe?: { query: string; variables: Record<string, unknown> },
  timeoutMs = 5000,
): Promise<RawWsOutcome> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const messages: RawWsOutcome['messages'] = [];
    let settled = false;
    const finish = (closeCode: number | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      if (socket.readyState === WebSocket.OPEN) socket.close(1000);
      resolve({ closeCode, messages });
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: connectionParams })));
    socket.on('message', (raw: WebSocket.RawData) => {
      const message = JSON.parse(raw.toString()) as { type: string; payload?: unknown };
      messages.push(message);
      if (message.type === 'connection_ack') {
        if (!subscribe) return finish(null);
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: subscribe }));
      }
      if (message.type === 'error' || message.type === 'complete') finish(null);
    });
    socket.on('close', (code: number) => finish(code));
    socket.on('error', () => finish(null));
  });
}
