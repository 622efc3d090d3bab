import { KafkaInferenceQueue, loadConfig, runSubgraphMain } from '@beedesk/runtime';
import { DEFAULT_PORTS } from '@beedesk/schema';
import { answerSettings, startAnswerService } from './index';

void runSubgraphMain('answer', DEFAULT_PORTS.answer, async ({ deps, kafka, config, lifecycle }) => {
  const settings = loadConfig(answerSettings);
  const base = await deps();
  const queue = new KafkaInferenceQueue(await kafka(), config.KAFKA_TOPIC, settings.KAFKA_PRODUCER_LINGER_MS);
  await queue.connect();
  lifecycle.onShutdown('kafka producer', () => queue.close());
  return startAnswerService({ ...base, settings, queue, queueReadiness: async () => ({ kafka: queue.connected ? 'ok' : 'disconnected' }) });
});
