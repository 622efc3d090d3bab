import { ChannelListeners, type EventTransport } from './transport';

/** The embedded default's transport: one process, so a listener map is all pub/sub needs. */
export class InProcessTransport implements EventTransport {
  private readonly listeners = new ChannelListeners();

  async publish(channel: string, message: string): Promise<void> {
    this.listeners.deliver(channel, message);
  }

  async subscribe(channel: string, listener: (message: string) => void): Promise<() => void> {
    this.listeners.add(channel, listener);
    return () => void this.listeners.remove(channel, listener);
  }

  async close(): Promise<void> {}
}
