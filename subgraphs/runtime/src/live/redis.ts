import { isCluster, type Redis } from '../redis';
import { ChannelListeners, type EventTransport } from './transport';

/**
 * Redis pub/sub: PUBLISH on the service's ordinary connection, SUBSCRIBE on one dedicated
 * connection per process (a subscribed connection can run nothing else), opened on first use.
 * Each channel is subscribed once however many local listeners it has. ioredis re-subscribes
 * after a reconnect; events published while the connection was down are lost (pub/sub keeps
 * nothing), which clients detect by the gap in `seq`.
 *
 * On a Redis Cluster the same is sharded pub/sub: SPUBLISH goes to the shard that owns the channel's
 * slot (the channel carries the tenant's hash tag, keys.ts) instead of being broadcast to every node,
 * and the subscriber is a cluster client with one SSUBSCRIBE connection per master, which ioredis
 * moves to the new master after a failover. Events published during the failover are lost like any
 * other pub/sub gap.
 */
export class RedisTransport implements EventTransport {
  private readonly listeners = new ChannelListeners();
  private subscriber: Redis | null = null;
  /** The subscriber once connected and ready: no SUBSCRIBE may reach it before its ready check ran. */
  private subscriberReady: Promise<Redis> | null = null;
  /** Serialises SUBSCRIBE/UNSUBSCRIBE per channel, so an unsubscribe never overtakes a subscribe. */
  private readonly pending = new Map<string, Promise<unknown>>();

  private readonly sharded: boolean;

  constructor(private readonly redis: Redis) {
    this.sharded = isCluster(redis);
  }

  async publish(channel: string, message: string): Promise<void> {
    if (this.sharded) await this.redis.spublish(channel, message);
    else await this.redis.publish(channel, message);
  }

  async subscribe(channel: string, listener: (message: string) => void): Promise<() => void> {
    const connection = await this.connection();
    const unsubscribeLast = () => {
      void this.chain(channel, () => (this.sharded ? connection.sunsubscribe(channel) : connection.unsubscribe(channel))).catch(
        () => undefined,
      );
    };
    const first = this.listeners.add(channel, listener);
    const ready = first
      ? this.chain(channel, () => (this.sharded ? connection.ssubscribe(channel) : connection.subscribe(channel)))
      : (this.pending.get(channel) ?? Promise.resolve());
    try {
      await ready;
    } catch (error) {
      // A SUBSCRIBE that timed out (REDIS_COMMAND_TIMEOUT_MS) still takes effect once Redis answers: undo it
      // after it, so the connection does not stay subscribed to a channel nobody listens to.
      if (this.listeners.remove(channel, listener)) unsubscribeLast();
      throw error;
    }
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      if (this.listeners.remove(channel, listener)) unsubscribeLast();
    };
  }

  async close(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = null;
    this.subscriberReady = null;
    if (subscriber) await subscriber.quit().catch(() => subscriber.disconnect());
  }

  private connection(): Promise<Redis> {
    if (!this.subscriberReady) {
      const subscriber: Redis = isCluster(this.redis) ? this.redis.duplicate([], { shardedSubscribers: true }) : this.redis.duplicate();
      const deliver = (channel: string, message: string) => this.listeners.deliver(channel, message);
      subscriber.on(this.sharded ? 'smessage' : 'message', deliver);
      // Errors surface through failed SUBSCRIBE calls and reconnects; keep them off the process.
      subscriber.on('error', () => undefined);
      this.subscriber = subscriber;
      // A lazily connecting duplicate would let two early SUBSCRIBEs race its ready check
      // ("ERR Can't execute 'info'" in subscriber mode): connect once, then subscribe.
      const ready = subscriber.status === 'wait' ? subscriber.connect().then(() => subscriber) : Promise.resolve(subscriber);
      this.subscriberReady = ready.catch((error: unknown) => {
        // Let the next subscribe try a fresh connection instead of failing forever.
        if (this.subscriber === subscriber) {
          this.subscriber = null;
          this.subscriberReady = null;
        }
        subscriber.disconnect();
        throw error;
      });
    }
    return this.subscriberReady;
  }

  private chain(channel: string, run: () => Promise<unknown>): Promise<unknown> {
    const previous = this.pending.get(channel) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(run);
    this.pending.set(channel, next);
    void next
      .finally(() => {
        if (this.pending.get(channel) === next) this.pending.delete(channel);
      })
      .catch(() => undefined);
    return next;
  }
}
