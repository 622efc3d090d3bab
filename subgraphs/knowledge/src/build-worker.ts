/**
 * Worker-thread entry of WorkerModelBuilder (builder.ts): trains knowledge models off the main event
 * loop, one at a time, and posts each back as a ModelState (typed arrays on shared memory, not copied).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { WarmBuilds, type WorkerReply, type WorkerRequest } from './builder';
import type { ModelOptions } from './model';

const port = parentPort;
if (port) {
  const builds = new WarmBuilds((workerData as { options?: ModelOptions } | undefined)?.options ?? {});
  port.on('message', (request: WorkerRequest) => {
    if (request.kind === 'forget') {
      builds.forget(request.tenantId);
      return;
    }
    let reply: WorkerReply;
    try {
      const { model, warm, buildMs } = builds.build(request.tenantId, request.articles);
      reply = { kind: 'built', id: request.id, state: model.toState(), warm, buildMs };
    } catch (error) {
      reply = { kind: 'failed', id: request.id, message: (error as Error).message };
    }
    port.postMessage(reply);
  });
}
