// What applications outside Conduit use: the token API's forced refreshes and the provider proxy.
import { integer } from '../kinds.ts';
import { variable } from '../variable.ts';
import type { EnvReader } from '../variable.ts';

export const CONDUIT_FORCE_REFRESH_WINDOW_SECONDS = variable({
  name: 'CONDUIT_FORCE_REFRESH_WINDOW_SECONDS',
  group: 'api',
  description:
    'At most one forced refresh (GET …/access-token?forceRefresh=true, or the proxy after a 401) per connection in this window, across every api process; further requests in it get the token that refresh stored, so a client in a loop cannot rotate a grant to death.',
  schema: integer({ min: 1, max: 86_400, noun: 'a number of seconds', example: 30 }),
  development: '30',
  production: '30',
});

export const CONDUIT_TOKEN_READ_TIMEOUT_MS = variable({
  name: 'CONDUIT_TOKEN_READ_TIMEOUT_MS',
  group: 'api',
  description:
    'Longest a token read (the token API, or the proxy before it calls the provider) may take, inline refresh and waiting on Redis included; past it the answer is 503 unavailable with Retry-After, so an application never hangs on an outage.',
  schema: integer({ min: 100, max: 600_000, noun: 'a number of milliseconds', example: 15_000 }),
  development: '15000',
  production: '15000',
});

export const CONDUIT_PROXY_TIMEOUT_MS = variable({
  name: 'CONDUIT_PROXY_TIMEOUT_MS',
  group: 'api',
  description:
    'Longest a proxied provider request may take, answer body included; past it the proxy answers 504.',
  schema: integer({ min: 100, max: 600_000, noun: 'a number of milliseconds', example: 30_000 }),
  development: '30000',
  production: '30000',
});

export const CONDUIT_PROXY_MAX_BODY_BYTES = variable({
  name: 'CONDUIT_PROXY_MAX_BODY_BYTES',
  group: 'api',
  description: 'Largest request body the proxy forwards to a provider; larger ones are refused with 413.',
  schema: integer({ min: 1024, max: 104_857_600, noun: 'a number of bytes', example: 1_048_576 }),
  development: '1048576',
  production: '1048576',
});

export const CONDUIT_PROXY_MAX_RESPONSE_BYTES = variable({
  name: 'CONDUIT_PROXY_MAX_RESPONSE_BYTES',
  group: 'api',
  description: 'Largest provider answer the proxy passes back; a larger one is cut off with 502.',
  schema: integer({ min: 1024, max: 1_073_741_824, noun: 'a number of bytes', example: 10_485_760 }),
  development: '10485760',
  production: '10485760',
});

export const integrationVariables = [
  CONDUIT_FORCE_REFRESH_WINDOW_SECONDS,
  CONDUIT_TOKEN_READ_TIMEOUT_MS,
  CONDUIT_PROXY_TIMEOUT_MS,
  CONDUIT_PROXY_MAX_BODY_BYTES,
  CONDUIT_PROXY_MAX_RESPONSE_BYTES,
];

export interface IntegrationConfig {
  readonly forceRefreshWindowSeconds: number;
  readonly tokenReadTimeoutMs: number;
  readonly proxyTimeoutMs: number;
  readonly proxyMaxBodyBytes: number;
  readonly proxyMaxResponseBytes: number;
}

export function readIntegration(r: EnvReader): IntegrationConfig {
  return {
    forceRefreshWindowSeconds: r.read(CONDUIT_FORCE_REFRESH_WINDOW_SECONDS),
    tokenReadTimeoutMs: r.read(CONDUIT_TOKEN_READ_TIMEOUT_MS),
    proxyTimeoutMs: r.read(CONDUIT_PROXY_TIMEOUT_MS),
    proxyMaxBodyBytes: r.read(CONDUIT_PROXY_MAX_BODY_BYTES),
    proxyMaxResponseBytes: r.read(CONDUIT_PROXY_MAX_RESPONSE_BYTES),
  };
}
