import { KafkaInferenceQueue, runSubgraphMain } from '@beedesk/runtime';
import { DEFAULT_PORTS } from '@beedesk/schema';
import { startAnswerService } from './index';

void runSubgraphMain('answer', DEFAULT_PORTS.answer, async ({ deps, kafka, config, lifecycle }) => {
  const base = await deps();
  const queue = new KafkaInferenceQueue(await kafka(), config.KAFKA_TOPIC);
  await queue.connect();
  lifecycle.onShutdown('kafka producer', () => queue.close());
  return startAnswerService({ ...base, queue, queueReadiness: async () => ({ kafka: queue.connected ? 'ok' : 'disconnected' }) });
});
