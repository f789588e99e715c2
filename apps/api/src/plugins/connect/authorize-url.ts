// The provider's consent URL, from catalogue data: client id, redirect URI, scopes joined the
// provider's way, state, the PKCE challenge where supported, and the provider's extra parameters.
import type { ProviderSpec } from '@conduit/core';

export interface AuthorizeRequest {
  authorizeUrl: string;
  clientId: string;
  redirectUri: string;
  scopes: readonly string[];
  state: string;
  /** S256 challenge; only for providers with `pkce` */
  codeChallenge?: string | undefined;
}

export function buildAuthorizeUrl(spec: ProviderSpec, req: AuthorizeRequest): string {
  const url = new URL(req.authorizeUrl);
  const params: Record<string, string> = {
    response_type: 'code',
    client_id: req.clientId,
    redirect_uri: req.redirectUri,
    scope: req.scopes.join(spec.scopes.separator),
    state: req.state,
    ...spec.authorizeParams,
    ...(req.codeChallenge !== undefined && {
      code_challenge: req.codeChallenge,
      code_challenge_method: 'S256',
    }),
  };
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}
