export { createLogger } from './logger.ts';
export type { CreateLoggerOptions, LogFormat, Logger } from './logger.ts';
export { REDACT_PATHS, REDACTED, SECRET_KEYS } from './redact.ts';
export { createUserIdHasher, ownerLogFields } from './user-id-hasher.ts';
export type { UserIdHasher } from './user-id-hasher.ts';
export {
  createConduitMetrics,
  createMetricsRegistry,
  recordSyncItems,
  recordWebhookDelivery,
} from './metrics.ts';
export type { ConduitMetrics, MetricsRegistryOptions } from './metrics.ts';
export { createRefreshObserver } from './metrics-observer.ts';
export type { MetricsRefreshObserver, RefreshOutcomeSink } from './metrics-observer.ts';
export { startMetricsServer } from './metrics-server.ts';
export type { MetricsServer, MetricsServerOptions } from './metrics-server.ts';
