/**
 * @beedesk/runtime: the platform every service shares, and nothing that belongs to one of them.
 * Data lives with its owner (tenant, session, answer: their `/data` exports); the gateway keeps its
 * own keys and limits. This list is deliberate: add a name here only when another package needs it.
 */

// Configuration and ids
export {
  commonEnv,
  ConfigError,
  DEV_INTERNAL_SECRET,
  developmentSecretsOf,
  internalSecretOf,
  loadConfig,
  refuseDevelopmentSecrets,
  UnsafeDefaultsError,
} from './config';
export { isSafeId, isTenantId, keyPart, newId } from './ids';

// Errors with stable codes
export { badInput, codedError, ErrorCode, forbidden, notFound } from './errors';

// Logging and metrics
export { createLogger, mayLogText, requestLogger, type Logger } from './logger';
export { boundedLabel, createMetrics, observeWithExemplar, type MetricsRegistry, type ServiceMetrics } from './metrics';
export {
  activeContext,
  activeSpan,
  ATTR,
  contextWith,
  currentTraceparent,
  extractTraceContext,
  failSpan,
  injectTraceContext,
  inSpan,
  spanContextOf,
  SpanKind,
  SpanStatusCode,
  startTracing,
  traceFields,
  tracer,
  tracingEnabled,
  tracingSettingsOf,
  withActiveSpan,
  withContext,
  type Attributes,
  type Context,
  type Span,
  type SpanContext,
  type Tracing,
  type TracingSettings,
} from './tracing';

// HTTP helpers and shutdown
export { closeServer, listen, routeLabel, serveHealthRoute, serveMetrics, type CloseOptions, type Readiness } from './http';
export { Lifecycle } from './shutdown';

// The caller, and the context the gateway signs for the subgraphs
export { hasRole, isRole, isStaff, mayAccess, ROLES, type Caller, type Role } from './caller';
export { CONTEXT_HEADER, CONTEXT_TTL_SECONDS, signContext } from './signed-context';
export { type BaseContext } from './request-context';

// Redis: clients, the tenant key builder, the repository base
export {
  CLUSTER_OPTIONS,
  connectRedis,
  type RedisConnectOptions,
  createInMemoryRedis,
  isCluster,
  nodesOf,
  redisTargetOf,
  type RedisEventLog,
  type RedisTarget,
  DependencyUnavailableError,
  execOrThrow,
  keysMatching,
  type ChainableCommander,
  type Redis,
} from './redis';
export {
  answerKeysOf,
  DAY,
  handoffKeysOf,
  handoffTenantsKey,
  HOUR,
  kbChangedPattern,
  credentialsChangedPattern,
  tenantOfCredentialsChannel,
  MINUTE,
  outboxTenantsKey,
  SECOND,
  tenantChannels,
  type CredentialsChange,
  tenantKeyBase,
  tenantKeys,
  tenantOfKbChannel,
  type TenantChannels,
  type TenantKeys,
} from './keys';
export { parseJson, TenantStore } from './tenant-store';

// Kafka: the inference request queue
export {
  InProcessQueue,
  KafkaInferenceConsumer,
  KafkaInferenceQueue,
  type ConsumerScheduling,
  type Delivery,
  type InferenceConsumer,
  type InferenceQueue,
  type InferenceRequest,
} from './queue';

// Live events over Redis pub/sub
export {
  NO_EVENTS,
  type ActivityEventMessage,
  type AnswerEventKind,
  type AnswerEventMessage,
  type ConversationUpdateMessage,
  type EventPublisher,
  type HandoffPoke,
} from './events';
export { createInProcessEventBus, createRedisEventBus, type EventBus, type EventStream } from './live';
export { TRACEPARENT_FIELD } from './live/bus';
export { AsyncQueue, QueueOverflowError } from './async-queue';
export { CoalescingWriter, joinText } from './coalescing-writer';

// The subgraph server and service mains
export { pingRedis, startSubgraph, type ServiceDeps, type SubgraphResolvers, type SubgraphSpec } from './subgraph';
export { runServiceMain, runSubgraphMain, type StartedService } from './service';
