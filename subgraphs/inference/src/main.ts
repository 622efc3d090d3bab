import { KafkaInferenceConsumer, loadConfig, runSubgraphMain } from '@beedesk/runtime';
import { DEFAULT_PORTS } from '@beedesk/schema';
import { inferenceSettings } from './config';
import { startInferenceService } from './index';

void runSubgraphMain('inference', DEFAULT_PORTS.inference, async ({ deps, kafka, config, logger }) => {
  const settings = loadConfig(inferenceSettings);
  // No bound on the worker's Redis commands unless REDIS_COMMAND_TIMEOUT_MS sets one: no client waits on
  // them, and through a Redis pause the engine call goes on and its tokens are written once Redis answers;
  // a timed-out write would fail the attempt and ask the engine again on the redelivery.
  const base = await deps({ redisCommandTimeoutMs: 0 });
  const consumer = new KafkaInferenceConsumer(
    await kafka(),
    config.KAFKA_TOPIC,
    config.KAFKA_GROUP_ID,
    logger,
    settings.INFERENCE_CONCURRENCY,
    {
      mode: settings.INFERENCE_SCHEDULING,
      maxPerTenant: settings.INFERENCE_MAX_PER_TENANT ?? settings.INFERENCE_CONCURRENCY - 1,
      maxPerTenantContended: settings.INFERENCE_MAX_PER_TENANT_CONTENDED,
      maxBuffered: settings.INFERENCE_MAX_BUFFERED,
    },
  );
  return startInferenceService({
    ...base,
    settings,
    consumer,
    consumerReadiness: async () => ({ kafka: consumer.running ? 'ok' : 'not consuming' }),
  });
});
