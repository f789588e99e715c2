// The catalogue's sandbox paths, grouped: providers that share a path (GitHub's OAuth app and
// GitHub App) are served by one route that tells them apart per request.
import { PROVIDER_KEYS, type EndpointSet, type ProviderKey, providerSpec } from '@conduit/core';

export function providersByPath(endpoint: keyof EndpointSet): Map<string, ProviderKey[]> {
  const groups = new Map<string, ProviderKey[]>();
  for (const provider of PROVIDER_KEYS) {
    const path = providerSpec(provider).sandboxPaths[endpoint];
    const group = groups.get(path) ?? [];
    group.push(provider);
    groups.set(path, group);
  }
  return groups;
}
