// "Who am I" for the connect flow, over every enabled provider's API base.
import type { Config } from '@conduit/config';
import { IdentityClient } from '@conduit/providers';
import { endpointsOf, enabledProviders, providerHttpOptions } from './context.ts';

export function createIdentityClient(config: Config): IdentityClient {
  return new IdentityClient({
    apiBaseUrls: Object.fromEntries(
      enabledProviders(config).map((p) => [p, endpointsOf(config, p).apiBaseUrl]),
    ),
    ...providerHttpOptions(config),
  });
}
