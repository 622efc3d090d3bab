/**
 * Fair scheduling of inference requests between tenants, at the consumer (issue 16 point 5). The topic is
 * keyed by tenant and session, so one tenant's burst sits ahead of other tenants' questions on the same
 * partitions; a FIFO consumer answers them in arrival order. This scheduler keeps one queue per tenant
 * and serves the tenants by deficit round robin (each pass, a tenant may start `weight` requests), with
 * a cap on one tenant's concurrent answers and on the total in flight, while one session's requests
 * still run one at a time and in order. Per partition it reports the contiguous prefix of finished
 * offsets, the only offset that may be committed, so a crash loses nothing.
 *
 * Pure bookkeeping (no Kafka, no timers): the consumer feeds it and runs what `next()` hands out.
 */
export interface ScheduledItem<T> {
  tenantId: string;
  /** Requests with the same ordering key (tenant/session) run one at a time, in arrival order. */
  orderingKey: string;
  partition: number;
  offset: bigint;
  value: T;
}

export interface FairSchedulerOptions {
  /** Requests running at once over all tenants. */
  concurrency: number;
  /** Requests of one tenant running at once (0: only `concurrency` bounds it). */
  maxPerTenant: number;
  /** A tenant's share per round (plans may weigh differently); 1 by default. */
  weightOf?: (tenantId: string) => number;
  /**
   * Requests of one tenant running at once while another tenant is active (has requests waiting or
   * running, or had one read within `contentionWindowMs`); 0: `maxPerTenant` alone. The built-in engine's
   * answers are CPU work on this worker's one thread: a question of a quiet tenant shares that thread with
   * every answer running beside it, so while tenants contend each gets few at once; alone it gets them all.
   */
  maxPerTenantContended?: number;
  /** How long a tenant counts as active after a request of it was read (ms); 1,000 by default. */
  contentionWindowMs?: number;
  /** The clock (ms) for the contention window; Date.now by default. */
  now?: () => number;
}

interface TenantQueue<T> {
  items: ScheduledItem<T>[];
  deficit: number;
  running: number;
}

export class FairScheduler<T> {
  private readonly tenants = new Map<string, TenantQueue<T>>();
  /** Round-robin order of tenants with waiting items. */
  private readonly ring: string[] = [];
  private readonly busyKeys = new Set<string>();
  private running = 0;
  private buffered = 0;
  /** Per partition: offsets handed in and not finished, and the highest offset handed in. */
  private readonly open = new Map<number, Set<bigint>>();
  private readonly highest = new Map<number, bigint>();
  private readonly runningIn = new Map<number, number>();
  /** When each tenant last had a request read, least recent first (re-inserted on each read). */
  private readonly lastSeen = new Map<string, number>();

  constructor(private readonly options: FairSchedulerOptions) {}

  /**
   * Whether more than one tenant is active (requests waiting or running, or one read within the window):
   * then the contended bound applies to each of them. Every tenant next() may start from is active itself.
   */
  private contended(): boolean {
    if ((this.options.maxPerTenantContended ?? 0) <= 0) return false;
    const active = new Set<string>();
    for (const [tenantId, queue] of this.tenants) {
      if (queue.items.length > 0 || queue.running > 0) active.add(tenantId);
      if (active.size > 1) return true;
    }
    const since = (this.options.now ?? Date.now)() - (this.options.contentionWindowMs ?? 1000);
    for (const [tenantId, at] of this.lastSeen) {
      if (at < since) this.lastSeen.delete(tenantId);
      else active.add(tenantId);
      if (active.size > 1) return true;
    }
    return active.size > 1;
  }

  /** The most requests of one tenant that may run at once now (0: no per-tenant bound). */
  private cap(contended: boolean): number {
    const cap = this.options.maxPerTenant;
    const contendedCap = this.options.maxPerTenantContended ?? 0;
    return contended && contendedCap > 0 && (cap <= 0 || contendedCap < cap) ? contendedCap : cap;
  }

  /**
   * Whether a waiting request is held back only by the contended bound. It may start once the other
   * tenants have been quiet for the window, when nothing finishing prompts a next(): the caller's cue to
   * try again after the window.
   */
  get heldByContention(): boolean {
    if (this.running >= this.options.concurrency || !this.contended()) return false;
    const contendedCap = this.cap(true);
    const cap = this.cap(false);
    for (const queue of this.tenants.values())
      if (queue.items.length > 0 && queue.running >= contendedCap && (cap <= 0 || queue.running < cap)) return true;
    return false;
  }

  get size(): number {
    return this.buffered;
  }

  get inFlight(): number {
    return this.running;
  }

  /** Items waiting (not yet started) of one partition. */
  waitingOf(partition: number): number {
    let count = 0;
    for (const queue of this.tenants.values()) for (const item of queue.items) if (item.partition === partition) count++;
    return count;
  }

  add(item: ScheduledItem<T>): void {
    let queue = this.tenants.get(item.tenantId);
    if (!queue) this.tenants.set(item.tenantId, (queue = { items: [], deficit: 0, running: 0 }));
    if (queue.items.length === 0) this.ring.push(item.tenantId);
    queue.items.push(item);
    this.buffered++;
    if ((this.options.maxPerTenantContended ?? 0) > 0) {
      // Only kept when read: with the bound off nothing would ever prune it.
      this.lastSeen.delete(item.tenantId);
      this.lastSeen.set(item.tenantId, (this.options.now ?? Date.now)());
    }
    let open = this.open.get(item.partition);
    if (!open) this.open.set(item.partition, (open = new Set()));
    open.add(item.offset);
    const high = this.highest.get(item.partition);
    if (high === undefined || item.offset > high) this.highest.set(item.partition, item.offset);
  }

  /** The next item to run, or null when nothing may start now (caps reached, or only busy sessions wait). */
  next(): ScheduledItem<T> | null {
    if (this.running >= this.options.concurrency) return null;
    const cap = this.cap(this.contended());
    // At most two passes over the ring: the first may only top up deficits.
    for (let visited = 0; visited < this.ring.length * 2 && this.ring.length > 0; visited++) {
      const tenantId = this.ring[0]!;
      const queue = this.tenants.get(tenantId)!;
      const capped = cap > 0 && queue.running >= cap;
      const index = capped ? -1 : queue.items.findIndex((item) => !this.busyKeys.has(item.orderingKey));
      if (index >= 0 && queue.deficit <= 0) queue.deficit += this.options.weightOf?.(tenantId) ?? 1;
      if (index >= 0 && queue.deficit > 0) {
        const [item] = queue.items.splice(index, 1);
        queue.deficit--;
        queue.running++;
        this.running++;
        this.buffered--;
        this.busyKeys.add(item!.orderingKey);
        this.runningIn.set(item!.partition, (this.runningIn.get(item!.partition) ?? 0) + 1);
        // Its share for this round spent (or nothing left): the next tenant's turn.
        if (queue.deficit <= 0 || queue.items.length === 0) this.rotate(queue);
        return item!;
      }
      queue.deficit = 0;
      this.rotate(queue);
    }
    return null;
  }

  /**
   * Marks `item` finished and returns the offset that may now be committed for its partition (the first
   * offset not yet finished, Kafka's "next to read"), or null when the contiguous prefix did not move.
   */
  done(item: ScheduledItem<T>): bigint | null {
    const queue = this.tenants.get(item.tenantId);
    if (queue) queue.running--;
    this.running--;
    this.busyKeys.delete(item.orderingKey);
    this.runningIn.set(item.partition, (this.runningIn.get(item.partition) ?? 1) - 1);
    const open = this.open.get(item.partition);
    if (!open) return null;
    const lowestBefore = minOf(open);
    open.delete(item.offset);
    const lowestAfter = minOf(open);
    if (lowestBefore !== null && item.offset !== lowestBefore) return null;
    return lowestAfter ?? this.highest.get(item.partition)! + 1n;
  }

  /** Puts a running item back at the end of its tenant's queue (its answer failed: delivered again). */
  retry(item: ScheduledItem<T>): void {
    const queue = this.tenants.get(item.tenantId);
    if (queue) queue.running--;
    this.running--;
    this.busyKeys.delete(item.orderingKey);
    this.runningIn.set(item.partition, (this.runningIn.get(item.partition) ?? 1) - 1);
    this.add(item);
  }

  /**
   * Drops every waiting item (after a rebalance the consumer reads again from the committed offsets, so
   * they come back, or go to another consumer); running ones finish. Their offsets stay open, so the
   * committable prefix of a partition never passes a dropped item. Then forgets the partitions with
   * nothing running: their next items start a fresh prefix.
   */
  dropWaiting(): number {
    const dropped = this.buffered;
    for (const queue of this.tenants.values()) queue.items = [];
    this.ring.length = 0;
    for (const [tenantId, queue] of this.tenants) if (queue.running === 0) this.tenants.delete(tenantId);
    this.buffered = 0;
    for (const partition of [...this.open.keys()]) {
      if ((this.runningIn.get(partition) ?? 0) === 0) {
        this.open.delete(partition);
        this.highest.delete(partition);
      }
    }
    return dropped;
  }

  private rotate(queue: TenantQueue<T>): void {
    const tenantId = this.ring.shift()!;
    if (queue.items.length > 0) this.ring.push(tenantId);
    else if (queue.running === 0) this.tenants.delete(tenantId);
  }
}

function minOf(values: Set<bigint>): bigint | null {
  let min: bigint | null = null;
  for (const v of values) if (min === null || v < min) min = v;
  return min;
}
