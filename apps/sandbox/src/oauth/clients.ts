// Registered OAuth clients (one per provider: conduit-<provider> / sandbox-secret-<provider>)
// and how a token request presents its credentials. The accepted styles come from the catalogue.
import { PROVIDER_KEYS, type ClientAuthStyle, type ProviderKey, providerSpec } from '@conduit/core';

export interface Client {
  readonly provider: ProviderKey;
  readonly clientId: string;
  secret: string;
  /** null: any http(s) redirect_uri is accepted */
  redirectUris: string[] | null;
}

export interface PresentedCredentials {
  style: ClientAuthStyle | 'none';
  clientId: string | undefined;
  secret: string | undefined;
}

export type ClientCheck = 'ok' | 'unknown_client' | 'invalid_client';

export function defaultClientId(provider: ProviderKey): string {
  return `conduit-${provider}`;
}

export function defaultClientSecret(provider: ProviderKey): string {
  return `sandbox-secret-${provider}`;
}

export class ClientRegistry {
  private readonly byId = new Map<string, Client>();

  constructor() {
    this.reset();
  }

  reset(): void {
    this.byId.clear();
    for (const provider of PROVIDER_KEYS) {
      const clientId = defaultClientId(provider);
      this.byId.set(clientId, {
        provider,
        clientId,
        secret: defaultClientSecret(provider),
        redirectUris: null,
      });
    }
  }

  get(clientId: string | undefined): Client | undefined {
    return clientId === undefined ? undefined : this.byId.get(clientId);
  }

  forProvider(provider: ProviderKey): Client {
    return this.byId.get(defaultClientId(provider))!;
  }

  /** Which of the providers sharing a path this client belongs to (the first when unknown). */
  providerOf(clientId: string | undefined, candidates: readonly ProviderKey[]): ProviderKey {
    const client = this.get(clientId);
    return client && candidates.includes(client.provider) ? client.provider : candidates[0]!;
  }

  /** Checks the credentials the way the real token endpoint does, including the accepted style. */
  check(provider: ProviderKey, presented: PresentedCredentials): ClientCheck {
    const client = this.get(presented.clientId);
    if (!client || client.provider !== provider) return 'unknown_client';
    // An unsupported method authenticates no one: answered like an unknown client.
    if (presented.style === 'none' || !providerSpec(provider).acceptedClientAuth.includes(presented.style)) {
      return 'unknown_client';
    }
    return presented.secret === client.secret ? 'ok' : 'invalid_client';
  }

  redirectAllowed(client: Client, redirectUri: string): boolean {
    if (client.redirectUris) return client.redirectUris.includes(redirectUri);
    try {
      const protocol = new URL(redirectUri).protocol;
      return protocol === 'http:' || protocol === 'https:';
    } catch {
      return false;
    }
  }
}

/** Basic header (RFC 6749 §2.3.1, form-urlencoded id and secret) wins; else body fields. */
export function presentedCredentials(
  authorization: string | undefined,
  body: Readonly<Record<string, string | undefined>>,
): PresentedCredentials {
  if (authorization !== undefined && authorization.slice(0, 6).toLowerCase() === 'basic ') {
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { style: 'basic', clientId: safeDecode(decoded), secret: undefined };
    return {
      style: 'basic',
      clientId: safeDecode(decoded.slice(0, colon)),
      secret: safeDecode(decoded.slice(colon + 1)),
    };
  }
  if (body.client_secret !== undefined) {
    return { style: 'body', clientId: body.client_id, secret: body.client_secret };
  }
  return { style: 'none', clientId: body.client_id, secret: undefined };
}

function safeDecode(text: string): string {
  if (!text.includes('%') && !text.includes('+')) return text;
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}
