import { KafkaInferenceQueue, loadConfig, runSubgraphMain } from '@beedesk/runtime';
import { DEFAULT_PORTS } from '@beedesk/schema';
import { answerSettings, startAnswerService } from './index';

void runSubgraphMain('answer', DEFAULT_PORTS.answer, async ({ deps, kafka, config, lifecycle }) => {
  const settings = loadConfig(answerSettings);
  const base = await deps();
  const producerLog = base.logger.child({ component: 'kafka-producer' });
  // A producer that cannot send is replaced in place; until then /health/ready reports `kafka: replacing` (503).
  const queue = new KafkaInferenceQueue(await kafka(), config.KAFKA_TOPIC, {
    lingerMs: settings.KAFKA_PRODUCER_LINGER_MS,
    logger: producerLog,
  });
  await queue.connect();
  lifecycle.onShutdown('kafka producer', () => queue.close());
  return startAnswerService({ ...base, settings, queue, queueReadiness: async () => ({ kafka: queue.state }) });
});
