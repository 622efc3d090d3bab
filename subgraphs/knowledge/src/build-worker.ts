/**
 * Worker-thread entry of WorkerModelBuilder (builder.ts): trains knowledge models and calibrates thresholds
 * off the main event loop, one request at a time in the order sent, and posts each model back as a
 * ModelState (typed arrays on shared memory, not copied).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { calibrateWithCachedEncoder, WarmBuilds, type WorkerReply, type WorkerRequest } from './builder';
import type { ModelOptions } from './model';

const port = parentPort;
if (port) {
  const builds = new WarmBuilds((workerData as { options?: ModelOptions } | undefined)?.options ?? {});
  const handle = async (request: Exclude<WorkerRequest, { kind: 'forget' }>): Promise<WorkerReply> => {
    try {
      if (request.kind === 'calibrate')
        return { kind: 'calibrated', id: request.id, calibration: await calibrateWithCachedEncoder(request.articles, request.options) };
      const { model, warm, buildMs } = builds.build(request.tenantId, request.articles);
      return { kind: 'built', id: request.id, state: model.toState(), warm, buildMs };
    } catch (error) {
      return { kind: 'failed', id: request.id, message: (error as Error).message };
    }
  };
  // A calibration awaits (embeddings): requests are chained so that one never runs beside another, and a
  // forget applies after what was sent before it.
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (request: WorkerRequest) => {
    queue = queue.then(async () => {
      if (request.kind === 'forget') builds.forget(request.tenantId);
      else port.postMessage(await handle(request));
    });
  });
}
