/**
 * Model builds off the event loop. A build of a 10k-question knowledge base takes ~1.5 s of CPU, which
 * would stall every tenant's questions on the replica if it ran on the main thread; here it runs in a
 * worker thread (one per process, builds queued), and the finished model comes back without a copy of
 * its big arrays (they live on SharedArrayBuffers). The worker remembers each tenant's last model and
 * extracted features, so the next build after an upsert or delete is a warm start: only changed texts
 * are re-tokenised and training continues from the previous weights (one pass instead of a cold fit).
 *
 * When the compiled worker script is not available (ts-jest runs the TypeScript sources) or worker
 * threads are turned off, builds run in-thread with the same warm-start state (InlineModelBuilder).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { RawFeatures } from './features';
import { Model, type ModelOptions, type ModelState, type WarmSource } from './model';
import { patchModel } from './patch';
import type { KnowledgeArticle } from './types';

export interface BuildResult {
  model: Model;
  /** True when training continued from the tenant's previous model. */
  warm: boolean;
  /** Time spent building (in the worker, excluding queueing). */
  buildMs: number;
}

export interface ModelBuilder {
  /** Trains a model on exactly `articles` (the tenant's whole knowledge base). */
  build(tenantId: string, articles: readonly KnowledgeArticle[]): Promise<BuildResult>;
  /** Drops what is remembered for warm starts of the tenant. */
  forget(tenantId: string): void;
  close(): Promise<void>;
  readonly kind: 'worker' | 'inline';
}

/**
 * Where a warm start of `articles` begins: the previous model, patched with the articles it lacks. One
 * warm pass learns a new article poorly from zero weights (measured: median confidence 0.28 on a paraphrase,
 * sometimes not even ranked first), whereas the patch's weights for it are already good (0.95); the pass
 * then tunes them together with everything else.
 */
export function warmStartFrom(previous: Model, articles: readonly KnowledgeArticle[], options: ModelOptions = {}): WarmSource {
  return patchModel(previous, articles, options) ?? previous;
}

/** Tenants whose previous model and features are kept for warm starts (least recently built dropped). */
const WARM_TENANTS = 16;

/** The state behind warm starts; lives in the worker thread (or in-thread for the inline builder). */
export class WarmBuilds {
  private readonly tenants = new Map<string, { model: Model; features: Map<string, RawFeatures> }>();

  constructor(private readonly options: ModelOptions = {}) {}

  build(tenantId: string, articles: readonly KnowledgeArticle[]): { model: Model; warm: boolean; buildMs: number } {
    const started = performance.now();
    const previous = this.tenants.get(tenantId);
    this.tenants.delete(tenantId);
    const features = previous?.features ?? new Map<string, RawFeatures>();
    const warmFrom = previous ? warmStartFrom(previous.model, articles, this.options) : null;
    const model = Model.build(articles, this.options, { warmFrom, featureCache: features });
    this.tenants.set(tenantId, { model, features });
    while (this.tenants.size > WARM_TENANTS) this.tenants.delete(this.tenants.keys().next().value as string);
    return { model, warm: previous !== undefined, buildMs: performance.now() - started };
  }

  forget(tenantId: string): void {
    this.tenants.delete(tenantId);
  }
}

export class InlineModelBuilder implements ModelBuilder {
  readonly kind = 'inline';
  private readonly warm: WarmBuilds;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ModelOptions = {}) {
    this.warm = new WarmBuilds(options);
  }

  build(tenantId: string, articles: readonly KnowledgeArticle[]): Promise<BuildResult> {
    const run = this.queue.then(
      () =>
        new Promise<BuildResult>((resolve, reject) => {
          // Not in the caller's stack: lets pending I/O run first.
          setImmediate(() => {
            try {
              resolve(this.warm.build(tenantId, articles));
            } catch (error) {
              reject(error as Error);
            }
          });
        }),
    );
    this.queue = run.catch(() => undefined);
    return run;
  }

  forget(tenantId: string): void {
    this.warm.forget(tenantId);
  }

  async close(): Promise<void> {
    await this.queue;
  }
}

/** Messages between WorkerModelBuilder and build-worker.ts. */
export type WorkerRequest =
  { kind: 'build'; id: number; tenantId: string; articles: KnowledgeArticle[] } | { kind: 'forget'; tenantId: string };
export type WorkerReply =
  { kind: 'built'; id: number; state: ModelState; warm: boolean; buildMs: number } | { kind: 'failed'; id: number; message: string };

interface Pending {
  resolve: (result: BuildResult) => void;
  reject: (error: Error) => void;
}

export class WorkerModelBuilder implements ModelBuilder {
  readonly kind = 'worker';
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly script: string,
    private readonly options: ModelOptions = {},
  ) {}

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.script, { workerData: { options: this.options } });
    // Never keeps the process alive: builds are only useful while the service runs.
    worker.unref();
    worker.on('message', (reply: WorkerReply) => {
      const pending = this.pending.get(reply.id);
      if (!pending) return;
      this.pending.delete(reply.id);
      if (reply.kind === 'failed') pending.reject(new Error(`knowledge model build failed: ${reply.message}`));
      else pending.resolve({ model: Model.fromState(reply.state), warm: reply.warm, buildMs: reply.buildMs });
    });
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const [id, pending] of this.pending) {
        this.pending.delete(id);
        pending.reject(error);
      }
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`knowledge build worker exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  build(tenantId: string, articles: readonly KnowledgeArticle[]): Promise<BuildResult> {
    if (this.closed) return Promise.reject(new Error('model builder is closed'));
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<BuildResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const request: WorkerRequest = { kind: 'build', id, tenantId, articles: [...articles] };
      worker.postMessage(request);
    });
  }

  forget(tenantId: string): void {
    const request: WorkerRequest = { kind: 'forget', tenantId };
    this.worker?.postMessage(request);
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }
}

/** The compiled worker script beside this file, when running from dist. */
export const BUILD_WORKER_SCRIPT = join(__dirname, 'build-worker.js');

/**
 * A worker-thread builder when the compiled worker script exists (real mode, `npm start`), else inline.
 * `useWorker: false` forces inline builds.
 */
export function createModelBuilder(options: ModelOptions = {}, useWorker = true): ModelBuilder {
  if (useWorker && __filename.endsWith('.js') && existsSync(BUILD_WORKER_SCRIPT))
    return new WorkerModelBuilder(BUILD_WORKER_SCRIPT, options);
  return new InlineModelBuilder(options);
}
