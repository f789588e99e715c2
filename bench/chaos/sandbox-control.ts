// The few calls the chaos run makes to the sandbox's control API (/_sandbox).
import { PROVIDERS, type BuiltInProviderKey, type ProviderKey } from '@conduit/core';

export interface SeededGrant {
  grantId: string;
  provider: ProviderKey;
  accountId: string;
  email: string;
  accessToken: string;
  refreshToken: string | null;
  expiresIn: number | null;
}

export interface GrantView {
  grantId: string;
  provider: ProviderKey;
  family: 'active' | 'revoked';
  /** the one refresh token the sandbox accepts now; null once the family is revoked */
  refreshToken: string | null;
  revokedReason: 'refresh_token_reuse' | 'revoked_by_control' | null;
  lastRefreshAt: string | null;
  /** the User-Agent the sandbox's last successful refresh of this grant answered */
  lastRefreshClient: string | null;
  /** rotated-out refresh tokens of this family presented again */
  reuses: number;
  /** the last refresh was processed after its client had gone (a lost answer) */
  lastAnswerLost?: boolean;
}

export interface ProviderReport {
  anomalies: number;
  counts: Record<string, number>;
  examples: Record<string, Array<{ at: string; grantId?: string; detail: string }>>;
  revokedFamiliesTotal: number;
  traffic: Record<string, number>;
}

export interface SandboxReport {
  anomalies: number;
  providers: Readonly<Record<BuiltInProviderKey, ProviderReport>> &
    Readonly<Partial<Record<ProviderKey, ProviderReport>>>;
  grants?: { total: number; items: GrantView[] };
}

export interface HoldView {
  provider: ProviderKey;
  parked: number;
  /** parked requests whose client has already gone */
  clientsGone: number;
}

export class SandboxControl {
  constructor(readonly url: string) {}

  private async call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}/_sandbox${path}`, {
      method,
      ...(body !== undefined && {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
      signal: AbortSignal.timeout(60_000),
    });
    if (!res.ok) throw new Error(`sandbox ${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  /** `count` grants of distinct accounts, named <emailPrefix><n>@chaos.test. */
  async grants(
    provider: ProviderKey,
    count: number,
    accessTokenTtlSeconds: number,
    emailPrefix: string,
  ): Promise<SeededGrant[]> {
    const { grants } = await this.call<{ grants: SeededGrant[] }>('POST', '/grants', {
      provider,
      count,
      accessTokenTtlSeconds,
      emailPrefix,
      emailDomain: 'chaos.test',
    });
    return grants;
  }

  async tokenFaults(rule: {
    rate429: number;
    retryAfterSeconds: number;
    rate5xx: number;
    hangRate: number;
  }): Promise<void> {
    await this.call('POST', '/faults', { provider: '*', endpoint: 'token', ...rule });
  }

  async clearFaults(): Promise<void> {
    await this.call('DELETE', '/faults');
  }

  async revoke(grantIds: string[]): Promise<void> {
    await this.call('POST', '/grants/revoke', { grantIds });
  }

  /** Parks the provider's token requests until released; `processAbandoned`: process them even once their client has gone. */
  async hold(provider: ProviderKey, processAbandoned: boolean): Promise<void> {
    await this.call('POST', '/holds', { provider, endpoint: 'token', processAbandoned });
  }

  async releaseHolds(): Promise<number> {
    return (await this.call<{ released: number }>('POST', '/holds/release', {})).released;
  }

  async holds(): Promise<HoldView[]> {
    return (await this.call<{ holds: HoldView[] }>('GET', '/holds')).holds;
  }

  async setClientSecret(provider: ProviderKey, secret: string): Promise<void> {
    await this.call('POST', `/clients/${provider}/secret`, { secret });
  }

  /**
   * A meeting that just finished recording for this Fathom grant (its transcript exists in the
   * sandbox). The sandbox delivers nothing for it: the chaos run's sender plays Fathom's part.
   */
  async record(grantId: string): Promise<{ recording_id: number; created_at: string }> {
    const { recordings } = await this.call<{
      recordings: Array<{ recording_id: number; created_at: string }>;
    }>('POST', '/fathom/recordings', { grantId, count: 1, deliver: false });
    return recordings[0]!;
  }

  /** Registers a webhook through the sandbox's Fathom API with the account's token, as Conduit does. */
  async registerFathomWebhook(
    accessToken: string,
    destinationUrl: string,
  ): Promise<{ id: string; secret: string }> {
    const res = await fetch(`${this.url}${PROVIDERS.fathom.sandboxPaths.apiBaseUrl}/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        destination_url: destinationUrl,
        triggered_for: ['my_recordings'],
        include_transcript: true,
        include_summary: true,
      }),
    });
    if (res.status !== 201)
      throw new Error(`registering a Fathom webhook: ${res.status} ${await res.text()}`);
    return (await res.json()) as { id: string; secret: string };
  }

  report(withGrants: boolean): Promise<SandboxReport> {
    return this.call('GET', `/report${withGrants ? '?grants=1' : ''}`);
  }
}

export type Traffic = ReturnType<typeof trafficOf>;

/** What reached the sandbox, summed over providers. */
export function trafficOf(report: SandboxReport) {
  const sum = (key: string) => Object.values(report.providers).reduce((n, p) => n + (p!.traffic[key] ?? 0), 0);
  return {
    tokenRequests: sum('tokenRequests'),
    refreshes: sum('refreshes'),
    rateLimited: sum('rateLimited'),
    fault5xx: sum('fault5xx'),
    faultHangs: sum('faultHangs'),
    apiCalls: sum('apiCalls'),
  };
}
