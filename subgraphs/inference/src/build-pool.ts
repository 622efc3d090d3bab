import type { KnowledgeArticle } from '@beedesk/knowledge';
import type { BuildResult, ModelBuilder } from '@beedesk/knowledge/builder';

/** A build that took longer than its time box; its worker was terminated and replaced. */
export class BuildTimeoutError extends Error {
  constructor(
    readonly tenantId: string,
    readonly timeoutMs: number,
  ) {
    super(`knowledge model build of tenant ${tenantId} did not finish within ${timeoutMs} ms; its build worker was replaced`);
    this.name = 'BuildTimeoutError';
  }
}

export interface BuildPoolOptions {
  /** Builders that run at once (each a worker thread in production). */
  size: number;
  /** A build running longer than this is abandoned and its builder terminated (0: no time box). */
  timeoutMs: number;
  /** A fresh builder: at start, and to replace one whose build timed out. */
  createSlot: () => ModelBuilder;
}

interface Slot {
  builder: ModelBuilder;
  busy: boolean;
  /** Tenants whose warm-start state lives in this builder. */
  tenants: Set<string>;
}

/**
 * Model builds on several builders, each build time-boxed, so one tenant's huge or stuck build cannot hold up
 * another's: with `size` builders a build waits only while `size` other builds run, and never longer than
 * their time box, because a build that overruns is abandoned and its builder (worker thread) terminated and
 * replaced. A tenant goes back to the builder that built it last when that one is free (warm starts keep their
 * state there), else to any free one. One build per tenant at a time is the caller's job (KnowledgeCache).
 */
export class BuildPool implements ModelBuilder {
  readonly kind: ModelBuilder['kind'];
  private readonly slots: Slot[];
  private readonly home = new Map<string, Slot>();
  private readonly waiting: (() => void)[] = [];
  private closed = false;

  constructor(private readonly options: BuildPoolOptions) {
    this.slots = Array.from({ length: Math.max(1, options.size) }, () => ({
      builder: options.createSlot(),
      busy: false,
      tenants: new Set(),
    }));
    this.kind = this.slots[0]!.builder.kind;
  }

  async build(tenantId: string, articles: readonly KnowledgeArticle[]): Promise<BuildResult> {
    const slot = await this.acquire(tenantId);
    try {
      return await this.runBoxed(slot, tenantId, articles);
    } finally {
      slot.busy = false;
      this.waiting.shift()?.();
    }
  }

  forget(tenantId: string): void {
    const slot = this.home.get(tenantId);
    this.home.delete(tenantId);
    slot?.tenants.delete(tenantId);
    slot?.builder.forget(tenantId);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const wake of this.waiting.splice(0)) wake();
    await Promise.all(this.slots.map((slot) => slot.builder.close()));
  }

  private async acquire(tenantId: string): Promise<Slot> {
    for (;;) {
      if (this.closed) throw new Error('model builder is closed');
      const home = this.home.get(tenantId);
      const slot = home && !home.busy ? home : this.slots.find((s) => !s.busy);
      if (slot) {
        slot.busy = true;
        if (home && home !== slot) this.forget(tenantId);
        return slot;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private async runBoxed(slot: Slot, tenantId: string, articles: readonly KnowledgeArticle[]): Promise<BuildResult> {
    const building = slot.builder.build(tenantId, articles);
    if (this.options.timeoutMs <= 0) return this.settle(slot, tenantId, await building);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.options.timeoutMs);
    });
    try {
      const outcome = await Promise.race([building, timedOut]);
      if (outcome !== 'timeout') return this.settle(slot, tenantId, outcome);
    } finally {
      clearTimeout(timer);
    }
    building.catch(() => undefined);
    this.replace(slot);
    throw new BuildTimeoutError(tenantId, this.options.timeoutMs);
  }

  private settle(slot: Slot, tenantId: string, result: BuildResult): BuildResult {
    this.home.set(tenantId, slot);
    slot.tenants.add(tenantId);
    return result;
  }

  /** Terminates the slot's builder (ending the stuck build) and puts a fresh one in its place; its tenants start cold. */
  private replace(slot: Slot): void {
    const old = slot.builder;
    for (const tenant of slot.tenants) this.home.delete(tenant);
    slot.tenants.clear();
    slot.builder = this.options.createSlot();
    void old.close().catch(() => undefined);
  }
}
