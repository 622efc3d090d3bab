/**
 * Model builds off the event loop. A build of a 10k-question knowledge base takes ~1.5 s of CPU, which
 * would stall every tenant's questions on the replica if it ran on the main thread; here it runs in a
 * worker thread (one per process, builds queued), and the finished model comes back without a copy of
 * its big arrays (they live on SharedArrayBuffers). The worker remembers each tenant's last model and
 * extracted features, so the next build after an upsert or delete is a warm start: only changed texts
 * are re-tokenised and training continues from the previous weights (one pass instead of a cold fit).
 *
 * The same worker also calibrates thresholds (calibration.ts: three trainings plus every held-out question
 * asked), for the tenant service's staff-only Tenant.answerCalibration: there, a worker that exits when idle
 * (WorkerOptions.idleExitMs) frees the embedding model it loads between calibrations.
 *
 * When the compiled worker script is not available (ts-jest runs the TypeScript sources) or worker
 * threads are turned off, builds run in-thread with the same warm-start state (InlineModelBuilder).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { calibrateThreshold, type CalibrationOptions, type TenantCalibration } from './calibration';
import { SentenceEncoder } from './embedding/encoder';
import { currentSentenceEncoder, useSentenceEncoder } from './index';
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

let encoderTried = false;
/**
 * Calibrates with the same engine as inference answers with: sentence embeddings when the model is cached
 * (embedding/encoder.ts). Loaded once per thread, on its first calibration: a thread that never calibrates
 * never loads the model.
 */
export async function calibrateWithCachedEncoder(
  articles: readonly KnowledgeArticle[],
  options: CalibrationOptions,
): Promise<TenantCalibration | null> {
  if (!encoderTried && !currentSentenceEncoder()) {
    encoderTried = true;
    useSentenceEncoder(await SentenceEncoder.load());
  }
  return calibrateThreshold(articles, options);
}

/** Runs calibrateWithCachedEncoder, one at a time per calibrator. */
export interface Calibrator {
  calibrate(articles: readonly KnowledgeArticle[], options: CalibrationOptions): Promise<TenantCalibration | null>;
  close(): Promise<void>;
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

export class InlineModelBuilder implements ModelBuilder, Calibrator {
  readonly kind = 'inline';
  private readonly warm: WarmBuilds;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ModelOptions = {}) {
    this.warm = new WarmBuilds(options);
  }

  build(tenantId: string, articles: readonly KnowledgeArticle[]): Promise<BuildResult> {
    return this.enqueue(() => this.warm.build(tenantId, articles));
  }

  calibrate(articles: readonly KnowledgeArticle[], options: CalibrationOptions): Promise<TenantCalibration | null> {
    return this.enqueue(() => calibrateWithCachedEncoder(articles, options));
  }

  private enqueue<T>(work: () => T | Promise<T>): Promise<T> {
    const run = this.queue.then(
      () =>
        new Promise<T>((resolve, reject) => {
          // Not in the caller's stack: lets pending I/O run first.
          setImmediate(() => {
            try {
              Promise.resolve(work()).then(resolve, reject);
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
  | { kind: 'build'; id: number; tenantId: string; articles: KnowledgeArticle[] }
  | { kind: 'calibrate'; id: number; articles: KnowledgeArticle[]; options: CalibrationOptions }
  | { kind: 'forget'; tenantId: string };
export type WorkerReply =
  | { kind: 'built'; id: number; state: ModelState; warm: boolean; buildMs: number }
  | { kind: 'calibrated'; id: number; calibration: TenantCalibration | null }
  | { kind: 'failed'; id: number; message: string };

interface Pending {
  resolve: (reply: Exclude<WorkerReply, { kind: 'failed' }>) => void;
  reject: (error: Error) => void;
}

export interface WorkerOptions {
  /**
   * Terminate the worker after this long with nothing in flight (the next request starts a fresh one),
   * freeing what it loaded (the embedding model). Off by default: the inference service's builder keeps
   * its warm-start state for the next build.
   */
  idleExitMs?: number;
}

export class WorkerModelBuilder implements ModelBuilder, Calibrator {
  readonly kind = 'worker';
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly script: string,
    private readonly options: ModelOptions = {},
    private readonly workerOptions: WorkerOptions = {},
  ) {}

  /** Whether a worker thread is up (it exits when idle with WorkerOptions.idleExitMs). */
  get running(): boolean {
    return this.worker !== null;
  }

  private ensureWorker(): Worker {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (this.worker) return this.worker;
    // The env as this module sees it (the default is the same in a service; under jest the test's
    // process.env is a copy the real one does not share, e.g. BEEDESK_EMBEDDINGS=off).
    const worker = new Worker(this.script, { workerData: { options: this.options }, env: process.env });
    // Never keeps the process alive: builds are only useful while the service runs.
    worker.unref();
    worker.on('message', (reply: WorkerReply) => {
      const pending = this.pending.get(reply.id);
      if (!pending) return;
      this.pending.delete(reply.id);
      if (reply.kind === 'failed') pending.reject(new Error(`knowledge worker request failed: ${reply.message}`));
      else pending.resolve(reply);
      if (this.pending.size === 0) this.scheduleIdleExit(worker);
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

  private scheduleIdleExit(worker: Worker): void {
    const idleMs = this.workerOptions.idleExitMs;
    if (idleMs === undefined || this.worker !== worker) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.worker !== worker || this.pending.size > 0) return;
      this.worker = null;
      // Nothing is in flight on it: its exit must not fail requests already sent to a successor.
      worker.removeAllListeners('exit');
      worker.removeAllListeners('error');
      void worker.terminate();
    }, idleMs);
    this.idleTimer.unref();
  }

  private send(request: (id: number) => WorkerRequest): Promise<Exclude<WorkerReply, { kind: 'failed' }>> {
    if (this.closed) return Promise.reject(new Error('model builder is closed'));
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage(request(id));
    });
  }

  async build(tenantId: string, articles: readonly KnowledgeArticle[]): Promise<BuildResult> {
    const reply = await this.send((id) => ({ kind: 'build', id, tenantId, articles: [...articles] }));
    if (reply.kind !== 'built') throw new Error(`knowledge worker answered a build with ${reply.kind}`);
    return { model: Model.fromState(reply.state), warm: reply.warm, buildMs: reply.buildMs };
  }

  /** Calibrates in the worker (one request at a time there, in the order sent). */
  async calibrate(articles: readonly KnowledgeArticle[], options: CalibrationOptions): Promise<TenantCalibration | null> {
    const reply = await this.send((id) => ({ kind: 'calibrate', id, articles: [...articles], options }));
    if (reply.kind !== 'calibrated') throw new Error(`knowledge worker answered a calibration with ${reply.kind}`);
    return reply.calibration;
  }

  forget(tenantId: string): void {
    const request: WorkerRequest = { kind: 'forget', tenantId };
    this.worker?.postMessage(request);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
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

/**
 * The calibrator of a process that only calibrates now and then (the tenant service): a worker thread that
 * exits after `idleExitMs` without requests; in-thread only when the compiled worker script is missing.
 */
export function createCalibrator(idleExitMs: number, useWorker = true): Calibrator {
  if (useWorker && __filename.endsWith('.js') && existsSync(BUILD_WORKER_SCRIPT))
    return new WorkerModelBuilder(BUILD_WORKER_SCRIPT, {}, { idleExitMs });
  return new InlineModelBuilder();
}
