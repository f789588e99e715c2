// Revoking a grant at the provider on disconnect, as the catalogue describes it (RFC 7009, or
// GitHub's delete-grant API), or "not offered". Never throws for an HTTP answer or a transport
// failure: the disconnect must not depend on the provider.
import { type ProviderKey, providerSpec } from '@conduit/core';
import { Agent, request } from 'undici';

export interface RevocationTarget {
  clientId: string;
  clientSecret: string;
  /** the resolved URL (the sandbox's or the real one); `{client_id}` already filled in */
  url: string;
}

export type RevocationOutcome =
  | { kind: 'revoked' }
  /** the provider offers no revocation (catalogue: `none`), or the connection holds no token */
  | { kind: 'not_offered'; note: string }
  /** `retryable`: a 5xx, 408, 425, 429 or a transport failure; any other answer will not change */
  | { kind: 'failed'; detail: string; retryable: boolean };

export interface RevocationClientOptions {
  targets: Partial<Record<ProviderKey, RevocationTarget>>;
  timeoutMs: number;
  userAgent?: string;
}

const RETRYABLE = new Set([408, 425, 429]);

export class RevocationClient {
  readonly #agent = new Agent({ connections: 4 });

  constructor(private readonly options: RevocationClientOptions) {}

  async revoke(
    provider: ProviderKey,
    tokens: { accessToken: string | null; refreshToken: string | null },
  ): Promise<RevocationOutcome> {
    const spec = providerSpec(provider).revocation;
    const target = this.options.targets[provider];
    if (spec.kind === 'none') return { kind: 'not_offered', note: spec.note };
    if (!target) return { kind: 'not_offered', note: `${provider} is not enabled` };
    const headers: Record<string, string> = { 'user-agent': this.options.userAgent ?? 'Conduit/0.1' };
    const basic = `Basic ${Buffer.from(`${encodeURIComponent(target.clientId)}:${encodeURIComponent(target.clientSecret)}`).toString('base64')}`;
    let method: 'POST' | 'DELETE';
    let body: string;
    if (spec.kind === 'rfc7009') {
      const token =
        spec.token === 'refresh_token' ? (tokens.refreshToken ?? tokens.accessToken) : tokens.accessToken;
      if (token === null) return { kind: 'not_offered', note: 'the connection holds no token to revoke' };
      const form = new URLSearchParams({
        token,
        token_type_hint: token === tokens.refreshToken ? 'refresh_token' : 'access_token',
      });
      if (spec.clientAuth === 'basic') headers.authorization = basic;
      if (spec.clientAuth === 'body') {
        form.set('client_id', target.clientId);
        form.set('client_secret', target.clientSecret);
      }
      if (spec.clientAuth === 'client_id') form.set('client_id', target.clientId);
      method = 'POST';
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = form.toString();
    } else {
      if (tokens.accessToken === null)
        return { kind: 'not_offered', note: 'the connection holds no access token' };
      method = 'DELETE';
      headers.authorization = basic;
      headers.accept = 'application/vnd.github+json';
      headers['content-type'] = 'application/json';
      body = JSON.stringify({ access_token: tokens.accessToken });
    }
    const where = `${method} ${new URL(target.url).origin}${new URL(target.url).pathname}`;
    try {
      const res = await request(target.url, {
        method,
        headers,
        body,
        dispatcher: this.#agent,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      await res.body.dump();
      // GitHub: 404 means the grant is already gone; RFC 7009 answers 200 for unknown tokens too.
      if (
        (res.statusCode >= 200 && res.statusCode < 300) ||
        (spec.kind === 'github_grant' && res.statusCode === 404)
      ) {
        return { kind: 'revoked' };
      }
      return {
        kind: 'failed',
        detail: `${where} answered HTTP ${res.statusCode}`,
        retryable: RETRYABLE.has(res.statusCode) || res.statusCode >= 500,
      };
    } catch (err) {
      return { kind: 'failed', detail: `${where}: ${(err as Error).message}`, retryable: true };
    }
  }

  close(): Promise<void> {
    return this.#agent.close();
  }
}
