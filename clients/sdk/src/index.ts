export * from './client';
export * from './operations';
export * from './types';
export { TransportClosed, type RawErrorPayload, type RawResult, type SubscriptionProtocol } from './subscriptions';
export { sha256Hex, type PersistedOperationsMode, type PersistedQueryManifest } from './persisted';
