/**
 * Where live events travel: Redis pub/sub in real mode (every replica sees every event), a Map of
 * listeners in the embedded default. Messages are opaque strings; typing is the bus's job.
 */
export interface EventTransport {
  publish(channel: string, message: string): Promise<void>;
  /**
   * Resolves once the channel is really subscribed, so an event published after that is
   * delivered; the returned function unsubscribes this listener.
   */
  subscribe(channel: string, listener: (message: string) => void): Promise<() => void>;
  close(): Promise<void>;
}

/** Listener sets per channel, shared by both transports. */
export class ChannelListeners {
  private readonly channels = new Map<string, Set<(message: string) => void>>();

  /** True when this was the channel's first listener. */
  add(channel: string, listener: (message: string) => void): boolean {
    let set = this.channels.get(channel);
    const first = !set;
    if (!set) this.channels.set(channel, (set = new Set()));
    set.add(listener);
    return first;
  }

  /** True when this was the channel's last listener. */
  remove(channel: string, listener: (message: string) => void): boolean {
    const set = this.channels.get(channel);
    if (!set || !set.delete(listener)) return false;
    if (set.size > 0) return false;
    this.channels.delete(channel);
    return true;
  }

  deliver(channel: string, message: string): void {
    const set = this.channels.get(channel);
    if (!set) return;
    for (const listener of set) listener(message);
  }
}
