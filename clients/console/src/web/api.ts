import { BeedeskClient, BeedeskError, persistedText, type Operation } from '@beedesk/sdk';
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { graphqlUrl, type Identity } from './auth';

/** The console's operations (text → manifest id), computed at build time (build-web.ts). */
declare const __CONSOLE_OPERATIONS__: { id: string; body: string }[];

const manifest = { operations: __CONSOLE_OPERATIONS__ };

/** A generated document as an SDK operation, sent by its manifest id. */
export const op = <TData, TVariables>(
  typed: DocumentTypeDecoration<TData, TVariables> & { toString(): string },
): Operation<TData, TVariables> => ({
  document: persistedText(typed.toString()),
});

let client: BeedeskClient | null = null;
let clientToken = '';

/** The signed-in user's client: queries and mutations by documentId only (works against a persisted-only gateway). */
export function clientFor(identity: Identity): BeedeskClient {
  if (!client || clientToken !== identity.token) {
    void client?.close();
    clientToken = identity.token;
    client = new BeedeskClient({
      url: graphqlUrl(),
      token: identity.token,
      persistedOperations: { manifest },
      // Called as a method of the client, the browser's fetch would throw 'Illegal invocation': bind it to the window.
      fetch: (input, init) => fetch(input, init),
    });
  }
  return client;
}

export function closeClient(): void {
  void client?.close();
  client = null;
  clientToken = '';
}

/** What went wrong, for people: the message plus the stable code. */
export function describeError(error: unknown): { message: string; code: string } {
  if (error instanceof BeedeskError) return { message: error.message, code: error.code };
  return { message: error instanceof Error ? error.message : String(error), code: 'UNKNOWN' };
}

export type Loadable<T> = { state: 'loading' } | { state: 'error'; message: string; code: string } | { state: 'ready'; data: T };

/** Runs `load` now and whenever `deps` change; `reload()` runs it again. Stale answers are dropped. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): [Loadable<T>, () => void] {
  const [value, setValue] = useState<Loadable<T>>({ state: 'loading' });
  const generation = useRef(0);
  // The latest `load`: a reload called from an older render's callback (e.g. after a save that raced a
  // search change) must load what the page shows now, not what it showed then.
  const latestLoad = useRef(load);
  latestLoad.current = load;
  const run = useCallback(() => {
    const mine = ++generation.current;
    setValue((previous) => (previous.state === 'ready' ? previous : { state: 'loading' }));
    latestLoad.current().then(
      (data) => mine === generation.current && setValue({ state: 'ready', data }),
      (error: unknown) => mine === generation.current && setValue({ state: 'error', ...describeError(error) }),
    );
  }, []);
  useEffect(run, deps);
  return [value, run];
}
