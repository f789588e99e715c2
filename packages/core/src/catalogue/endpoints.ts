import type { EndpointSet, ProviderSpec } from './types.ts';

export interface EndpointOverrides {
  /** When set, every endpoint is served by the local sandbox at this base URL. */
  sandboxUrl?: string | undefined;
  authorizeUrl?: string | undefined;
  tokenUrl?: string | undefined;
  apiBaseUrl?: string | undefined;
}

/** An explicit override wins, then the sandbox, then the provider's real endpoint. */
export function resolveEndpoints(spec: ProviderSpec, overrides: EndpointOverrides = {}): EndpointSet {
  const base = overrides.sandboxUrl?.replace(/\/+$/, '');
  const pick = (field: keyof EndpointSet): string =>
    overrides[field] ?? (base ? `${base}${spec.sandboxPaths[field]}` : spec.endpoints[field]);
  return { authorizeUrl: pick('authorizeUrl'), tokenUrl: pick('tokenUrl'), apiBaseUrl: pick('apiBaseUrl') };
}

/** Scopes to request: the provider's defaults plus those of the chosen products, deduplicated. */
export function scopesFor(spec: ProviderSpec, products: readonly string[] = []): string[] {
  const scopes = new Set(spec.scopes.default);
  for (const product of products) {
    const p = spec.scopes.products?.[product];
    if (!p) {
      const known = Object.keys(spec.scopes.products ?? {});
      throw new Error(
        `${spec.displayName} has no product "${product}"; expected one of: ${known.length ? known.join(', ') : '(none)'}`,
      );
    }
    for (const s of p.scopes) scopes.add(s);
  }
  return [...scopes];
}
