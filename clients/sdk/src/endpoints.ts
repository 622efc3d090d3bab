/**
 * The gateway replicas a client may talk to, in order of preference. Every request and (re)connection
 * goes to the current one; when a replica fails (refused connection, socket gone) the client moves on to
 * the next, round the list, so a killed gateway costs one failed attempt instead of every later request.
 */
export class Endpoints {
  private index = 0;
  readonly urls: readonly string[];

  constructor(urls: readonly string[]) {
    if (urls.length === 0) throw new Error('At least one gateway URL is needed.');
    this.urls = [...urls];
  }

  current(): string {
    return this.urls[this.index]!;
  }

  /**
   * `url` failed: the next one becomes current. Only when `url` is still current, so several requests
   * failing on one dead replica at once move on by one, not once per request.
   */
  failed(url: string): void {
    if (this.urls.length > 1 && this.urls[this.index] === url) this.index = (this.index + 1) % this.urls.length;
  }
}

/**
 * True for a fetch failure where the request cannot have reached a server (the connection was refused or
 * the host is unknown), so sending it again elsewhere cannot run it twice. Node's fetch (undici) reports
 * these as a TypeError whose `cause.code` is the socket error.
 */
export function neverSent(error: unknown): boolean {
  const cause = error && typeof error === 'object' && 'cause' in error ? (error as { cause: unknown }).cause : undefined;
  const code = cause && typeof cause === 'object' && 'code' in cause ? String((cause as { code: unknown }).code) : '';
  return code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH';
}

/**
 * True for a fetch failure of the connection itself (no HTTP response): fetch's TypeError with a cause.
 * By name, not `instanceof`: the error may come from another realm (jest's test VM, an iframe's fetch).
 */
export function connectionFailed(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const { name, cause } = error as { name?: unknown; cause?: unknown };
  return name === 'TypeError' && cause !== undefined;
}
