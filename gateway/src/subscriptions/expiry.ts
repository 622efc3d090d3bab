/**
 * Calls `onExpired` when the caller's token expires (`expiresAt`, seconds since the epoch); at once
 * when it already has. setTimeout takes at most 2^31-1 ms, so longer-lived tokens are re-armed;
 * `assign` gets each timer (to clear it).
 */
export function armExpiry(expiresAt: number, onExpired: () => void, assign: (t: NodeJS.Timeout) => void): void {
  const delay = expiresAt * 1000 - Date.now();
  if (delay <= 0) return onExpired();
  const timer = setTimeout(
    () => (delay > 2 ** 31 - 1 ? armExpiry(expiresAt, onExpired, assign) : onExpired()),
    Math.min(delay, 2 ** 31 - 1),
  );
  timer.unref();
  assign(timer);
}
