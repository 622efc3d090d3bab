/**
 * Front-door fairness between tenants (gateway/README.md, "Fair share"): at most `maxConcurrent`
 * operations execute at once on this gateway, at most `maxConcurrentPerTenant` of one tenant; the
 * rest wait in one bounded queue per tenant, and a free slot goes to the next tenant by deficit round
 * robin (each tenant's turn is worth its weight in operations). A tenant's burst so waits behind its
 * own queue while another tenant's operation takes the next free slot. Pure logic and timers: no I/O.
 */

export interface FairShareSettings {
  /** Operations executing at once on this gateway; 0: no global bound. */
  maxConcurrent: number;
  /** Operations of one tenant executing at once on this gateway; 0: no per-tenant bound. */
  maxConcurrentPerTenant: number;
  /**
   * The per-tenant bound while other tenants are active too (one of them acquired a slot within
   * `contentionWindowMs`); 0: `maxConcurrentPerTenant` always. A tenant alone keeps the larger bound.
   */
  maxConcurrentPerTenantContended: number;
  contentionWindowMs: number;
  /**
   * The per-tenant bound while other tenants are active and the machine is short of CPU (the scheduler's
   * `underPressure`, event-loop-pressure.ts); 0: the contended bound then too. More of one tenant's
   * operations in flight than the cores keep up with only lengthen every tenant's wait downstream.
   */
  maxConcurrentPerTenantUnderPressure: number;
  /**
   * An operation executing for longer than this waits on something other than the CPU (a broker failing
   * over, a slow subgraph) and stops counting against the contended and under-pressure bounds, so the
   * tenant's next operation is not held behind it; 0: it always counts. `maxConcurrentPerTenant` and
   * `maxConcurrent` count it however long it runs.
   */
  stalledAfterMs: number;
  /** Operations of one tenant waiting for a slot; past it new ones are refused at once. */
  maxQueuedPerTenant: number;
  /** How long an operation may wait for a slot before it is refused. */
  maxWaitMs: number;
  /** A tenant's share relative to others (its DRR quantum, in operations per turn); absent: `defaultWeight`. */
  weights: ReadonlyMap<string, number>;
  defaultWeight: number;
}

/** Off: every operation executes at once (every bound 0). */
export const fairShareEnabled = (settings: FairShareSettings): boolean =>
  settings.maxConcurrent > 0 ||
  settings.maxConcurrentPerTenant > 0 ||
  settings.maxConcurrentPerTenantContended > 0 ||
  settings.maxConcurrentPerTenantUnderPressure > 0;

export type FairShareRefusalReason =
  /** The tenant already has `maxQueuedPerTenant` operations waiting. */
  | 'TENANT_QUEUE_FULL'
  /** The operation waited `maxWaitMs` without getting a slot. */
  | 'TENANT_QUEUE_TIMEOUT'
  /** The client went away while the operation waited. */
  | 'CLIENT_GONE'
  /** The gateway is shutting down. */
  | 'SHUTTING_DOWN';

export type SlotGrant =
  { ok: true; release: () => void; waitedMs: number } | { ok: false; reason: FairShareRefusalReason; waitedMs: number; queued: number };

interface Waiter {
  tenant: string;
  /** The queue it waits in (not looked up again by tenant: the timeout must find it whatever happened). */
  state: TenantState;
  enqueuedAt: number;
  /** Granted or refused: answered once, and never again. */
  settled: boolean;
  grant: (result: SlotGrant) => void;
  timer: NodeJS.Timeout | undefined;
  detach: () => void;
}

interface TenantState {
  queue: Waiter[];
  /** Its executing operations, each with when it started (their number is the tenant's running count). */
  started: Set<{ at: number }>;
  /** DRR: operations the tenant may still start in its current turn (fractions carry over turns). */
  deficit: number;
  /** Whether its quantum was added for the turn it is in now. */
  inTurn: boolean;
}

const NO_RELEASE = (): void => undefined;

/** The tighter of two bounds where 0 means none. */
const tighter = (a: number, b: number): number => (a <= 0 ? b : b <= 0 ? a : Math.min(a, b));

export class FairShareScheduler {
  private readonly tenants = new Map<string, TenantState>();
  /** DRR's active list: tenants with waiting operations, in turn order. */
  private readonly ring: string[] = [];
  private cursor = 0;
  private running = 0;
  /** When each tenant last asked for a slot, oldest first (re-inserted on every request). */
  private readonly lastSeen = new Map<string, number>();
  private closed = false;
  private stallCheck: NodeJS.Timeout | undefined;
  private readonly enabled: boolean;

  constructor(
    private readonly settings: FairShareSettings,
    private readonly now: () => number = () => performance.now(),
    /** Whether the machine is short of CPU now (event-loop-pressure.ts); never, unless given. */
    private readonly underPressure: () => boolean = () => false,
  ) {
    this.enabled = fairShareEnabled(settings);
    for (const [tenant, weight] of settings.weights) {
      if (!(weight > 0)) throw new Error(`fair-share weight of ${tenant} must be positive, got ${weight}`);
    }
    if (!(settings.defaultWeight > 0)) throw new Error(`fair-share default weight must be positive, got ${settings.defaultWeight}`);
  }

  /** Operations executing now, and waiting (all tenants, or one). */
  executing(tenant?: string): number {
    return tenant === undefined ? this.running : (this.tenants.get(tenant)?.started.size ?? 0);
  }

  queued(tenant?: string): number {
    if (tenant !== undefined) return this.tenants.get(tenant)?.queue.length ?? 0;
    let total = 0;
    for (const state of this.tenants.values()) total += state.queue.length;
    return total;
  }

  /** Whether an operation of `tenant` asking now would be refused with TENANT_QUEUE_FULL. */
  queueFull(tenant: string): boolean {
    if (!this.enabled || this.closed) return false;
    return (this.tenants.get(tenant)?.queue.length ?? 0) >= this.settings.maxQueuedPerTenant;
  }

  /**
   * A slot for one operation of `tenant`: at once when one is free and nobody of the tenant waits,
   * else after waiting its turn. `release` of a grant must be called once the operation has executed.
   */
  acquire(tenant: string, signal?: AbortSignal): SlotGrant | Promise<SlotGrant> {
    if (!this.enabled) return { ok: true, release: NO_RELEASE, waitedMs: 0 };
    if (this.closed) return { ok: false, reason: 'SHUTTING_DOWN', waitedMs: 0, queued: 0 };
    if (signal?.aborted) return { ok: false, reason: 'CLIENT_GONE', waitedMs: 0, queued: 0 };
    this.noteActive(tenant);
    const state = this.stateOf(tenant);
    // The tenant's bound may have grown since its waiting operations queued (the others went quiet).
    if (state.queue.length > 0 && this.canStart(state)) this.dispatch();
    if (state.queue.length === 0 && this.canStart(state)) return this.start(tenant, state, 0);
    if (state.queue.length >= this.settings.maxQueuedPerTenant) {
      this.forgetIfIdle(tenant, state);
      return { ok: false, reason: 'TENANT_QUEUE_FULL', waitedMs: 0, queued: state.queue.length };
    }
    return new Promise<SlotGrant>((resolve) => {
      const waiter: Waiter = {
        tenant,
        state,
        enqueuedAt: this.now(),
        settled: false,
        timer: undefined,
        detach: NO_RELEASE,
        grant: (result) => {
          if (waiter.settled) return;
          waiter.settled = true;
          if (waiter.timer) clearTimeout(waiter.timer);
          waiter.detach();
          resolve(result);
        },
      };
      // Answers the waiter unless it already was: its deadline holds whatever the queues say.
      const giveUp = (reason: FairShareRefusalReason) => {
        if (waiter.settled) return;
        this.removeWaiter(waiter);
        waiter.grant({ ok: false, reason, waitedMs: this.now() - waiter.enqueuedAt, queued: state.queue.length });
      };
      waiter.timer = setTimeout(() => giveUp('TENANT_QUEUE_TIMEOUT'), this.settings.maxWaitMs);
      if (signal) {
        const onAbort = () => giveUp('CLIENT_GONE');
        signal.addEventListener('abort', onAbort, { once: true });
        waiter.detach = () => signal.removeEventListener('abort', onAbort);
      }
      if (state.queue.length === 0) this.ring.push(tenant);
      state.queue.push(waiter);
      this.watchForStalls();
    });
  }

  /** Refuses every waiting operation (SHUTTING_DOWN) and admits no more; running ones release as usual. */
  close(): void {
    this.closed = true;
    if (this.stallCheck) clearTimeout(this.stallCheck);
    for (const tenant of [...this.ring]) {
      const state = this.tenants.get(tenant)!;
      for (const waiter of state.queue.splice(0)) {
        waiter.grant({ ok: false, reason: 'SHUTTING_DOWN', waitedMs: this.now() - waiter.enqueuedAt, queued: 0 });
      }
      this.forgetIfIdle(tenant, state);
    }
    this.ring.length = 0;
    this.cursor = 0;
  }

  private stateOf(tenant: string): TenantState {
    let state = this.tenants.get(tenant);
    if (!state) {
      state = { queue: [], started: new Set(), deficit: 0, inTurn: false };
      this.tenants.set(tenant, state);
    }
    return state;
  }

  /** Drops an idle tenant's state; only its own: never a newer state of the same tenant. */
  private forgetIfIdle(tenant: string, state: TenantState): void {
    if (state.started.size === 0 && state.queue.length === 0 && this.tenants.get(tenant) === state) this.tenants.delete(tenant);
  }

  private globalSlotFree(): boolean {
    return this.settings.maxConcurrent <= 0 || this.running < this.settings.maxConcurrent;
  }

  private canStart(state: TenantState): boolean {
    if (!this.globalSlotFree()) return false;
    const { maxConcurrentPerTenant } = this.settings;
    if (maxConcurrentPerTenant > 0 && state.started.size >= maxConcurrentPerTenant) return false;
    const shared = this.sharedBound();
    return shared <= 0 || this.busy(state) < shared;
  }

  /** The tenant's executing operations that count against the shared bounds: those not stalled. */
  private busy(state: TenantState): number {
    const { stalledAfterMs } = this.settings;
    if (stalledAfterMs <= 0) return state.started.size;
    const since = this.now() - stalledAfterMs;
    let busy = 0;
    for (const { at } of state.started) if (at > since) busy++;
    return busy;
  }

  private noteActive(tenant: string): void {
    this.lastSeen.delete(tenant);
    this.lastSeen.set(tenant, this.now());
  }

  /**
   * The per-tenant bound while tenants share this process, beside `maxConcurrentPerTenant` (0: none now):
   * the contended one while more than one tenant was active within the window, tighter still while the
   * machine is short of CPU (`underPressure`). More of one tenant's operations in flight than the machine
   * runs at once only lengthen the queues in the subgraphs that every tenant's requests wait in
   * (gateway/README.md, "Fair share").
   */
  private sharedBound(): number {
    const { maxConcurrentPerTenantContended, maxConcurrentPerTenantUnderPressure, contentionWindowMs } = this.settings;
    if (maxConcurrentPerTenantContended <= 0 && maxConcurrentPerTenantUnderPressure <= 0) return 0;
    const horizon = this.now() - contentionWindowMs;
    for (const [tenant, seenAt] of this.lastSeen) {
      if (seenAt >= horizon) break; // the map is in order of last activity
      this.lastSeen.delete(tenant);
    }
    if (this.lastSeen.size < 2) return 0;
    if (maxConcurrentPerTenantUnderPressure > 0 && this.underPressure())
      return tighter(maxConcurrentPerTenantContended, maxConcurrentPerTenantUnderPressure);
    return maxConcurrentPerTenantContended;
  }

  private start(tenant: string, state: TenantState, waitedMs: number): SlotGrant {
    this.running++;
    const started = { at: this.now() };
    state.started.add(started);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.running--;
      state.started.delete(started);
      this.forgetIfIdle(tenant, state);
      this.dispatch();
    };
    return { ok: true, release, waitedMs };
  }

  /** Gives free slots to waiting operations, tenant by tenant in DRR order. */
  private dispatch(): void {
    this.dispatchFree();
    this.watchForStalls();
  }

  /**
   * While operations wait, looks again every quarter of `stalledAfterMs`: an operation that stalls frees
   * its tenant's shared bound without a release or a new request to notice it.
   */
  private watchForStalls(): void {
    const { stalledAfterMs } = this.settings;
    if (stalledAfterMs <= 0 || this.closed || this.stallCheck || this.ring.length === 0) return;
    this.stallCheck = setTimeout(() => {
      this.stallCheck = undefined;
      if (!this.closed) this.dispatch();
    }, stalledAfterMs / 4);
    this.stallCheck.unref();
  }

  private dispatchFree(): void {
    while (this.globalSlotFree()) {
      const tenant = this.nextTenant();
      if (tenant === null) return;
      const state = this.tenants.get(tenant)!;
      const waiter = state.queue.shift()!;
      // Started before it may leave the ring: a tenant whose last waiting operation gets a slot while
      // none of its operations runs must not be forgotten as idle (its next request would then get a
      // new state, start beside this one past the bound, and this one's release would forget that
      // state and the operations waiting in it, which nothing would answer).
      const grant = this.start(tenant, state, this.now() - waiter.enqueuedAt);
      if (state.queue.length === 0) this.leaveRing(tenant, state);
      waiter.grant(grant);
    }
  }

  /**
   * The tenant whose oldest waiting operation gets the next slot: the tenant in turn while its deficit
   * lasts; a turn adds the tenant's weight to its deficit; tenants at their own bound are passed over.
   */
  private nextTenant(): string | null {
    if (!this.ring.some((tenant) => this.canStart(this.tenants.get(tenant)!))) return null;
    for (;;) {
      const tenant = this.ring[this.cursor]!;
      const state = this.tenants.get(tenant)!;
      if (this.canStart(state)) {
        if (!state.inTurn) {
          state.inTurn = true;
          state.deficit += this.settings.weights.get(tenant) ?? this.settings.defaultWeight;
        }
        if (state.deficit >= 1) {
          state.deficit -= 1;
          return tenant;
        }
      }
      state.inTurn = false;
      this.cursor = (this.cursor + 1) % this.ring.length;
    }
  }

  /** DRR: a tenant with nothing waiting leaves the active list and keeps no credit. */
  private leaveRing(tenant: string, state: TenantState): void {
    const index = this.ring.indexOf(tenant);
    if (index < 0) return;
    this.ring.splice(index, 1);
    state.deficit = 0;
    state.inTurn = false;
    if (index < this.cursor) this.cursor--;
    if (this.cursor >= this.ring.length) this.cursor = 0;
    this.forgetIfIdle(tenant, state);
  }

  /** Takes a waiter out of its queue (timeout, abort), if it is still in it. */
  private removeWaiter(waiter: Waiter): void {
    const { state } = waiter;
    const index = state.queue.indexOf(waiter);
    if (index < 0) return;
    state.queue.splice(index, 1);
    if (state.queue.length === 0) this.leaveRing(waiter.tenant, state);
  }
}
