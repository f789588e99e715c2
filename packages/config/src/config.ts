import type { ApiConfig } from './groups/api.ts';
import type { DatabaseConfig } from './groups/database.ts';
import type { IntegrationConfig } from './groups/integration.ts';
import type { ProvidersConfig } from './groups/providers.ts';
import type { RedisConfig } from './groups/redis.ts';
import type { RuntimeConfig } from './groups/runtime.ts';
import type { SandboxConfig } from './groups/sandbox.ts';
import type { SecurityConfig } from './groups/security.ts';
import type { TimingsConfig } from './groups/timings.ts';

/** Every setting of every app, validated; deeply frozen. */
export interface Config {
  readonly runtime: RuntimeConfig;
  readonly database: DatabaseConfig;
  readonly redis: RedisConfig;
  readonly security: SecurityConfig;
  readonly api: ApiConfig;
  /** the token API's forced refreshes and the provider proxy */
  readonly integration: IntegrationConfig;
  readonly providers: ProvidersConfig;
  readonly timings: TimingsConfig;
  readonly sandbox: SandboxConfig;
}
