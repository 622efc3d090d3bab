import { KafkaInferenceConsumer, runSubgraphMain } from '@beedesk/runtime';
import { DEFAULT_PORTS } from '@beedesk/schema';
import { startInferenceService } from './index';

void runSubgraphMain('inference', DEFAULT_PORTS.inference, async ({ deps, kafka, config, logger }) => {
  const base = await deps();
  const consumer = new KafkaInferenceConsumer(await kafka(), config.KAFKA_TOPIC, config.KAFKA_GROUP_ID, logger);
  return startInferenceService({
    ...base,
    consumer,
    consumerReadiness: async () => ({ kafka: consumer.running ? 'ok' : 'not consuming' }),
  });
});
