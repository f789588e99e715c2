// "Who am I" for the connect flow, over every enabled provider's API base.
import type { Config } from '@conduit/config';
import { IdentityClient } from '@conduit/providers';
import { endpointsOf, enabledProviders } from './context.ts';

export function createIdentityClient(config: Config): IdentityClient {
  const t = config.timings;
  return new IdentityClient({
    apiBaseUrls: Object.fromEntries(
      enabledProviders(config).map((p) => [p, endpointsOf(config, p).apiBaseUrl]),
    ),
    timeouts: {
      connectMs: t.httpConnectTimeoutMs,
      headersMs: t.httpHeadersTimeoutMs,
      bodyMs: t.httpBodyTimeoutMs,
    },
    rateLimitDefaultWaitMs: t.rateLimitDefaultWaitSeconds * 1000,
    userAgent: config.providers.userAgent,
  });
}
