// The anomaly log: what clients did wrong, per provider, as counts plus the first few
// examples. Recording is O(1); examples are built only while a kind still has room for one.
import { PROVIDER_KEYS, type BuiltInProviderKey, type ProviderKey } from '@conduit/core';
import type { Grant, RevokeReason } from './grants/store.ts';

export const ANOMALY_KINDS = [
  /** a refresh of a grant arrived while another refresh of it was still being processed */
  'concurrentRefreshes',
  /** a rotated-out refresh token was presented again (the family is then revoked, RFC 9700) */
  'reusedRefreshTokens',
  /** an API call with an access token past its expiry */
  'expiredTokenCalls',
  /** an API call with an access token of a revoked grant */
  'revokedTokenCalls',
  /** a request before the Retry-After / RateLimit-Reset it was given had elapsed */
  'earlyRequests',
  /** an access token lapsed while its grant was in use: used, never refreshed in time, called again */
  'expiredWhileInUse',
] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

export interface AnomalyExample {
  at: string;
  grantId?: string;
  accountId?: string;
  clientId?: string;
  detail: string;
}

export interface RevokedFamily {
  grantId: string;
  accountId: string;
  reason: RevokeReason;
  at: string;
}

/** Plain counters of what happened, to read faults and anomalies against. */
export class Traffic {
  tokenRequests = 0;
  codeExchanges = 0;
  refreshes = 0;
  tokenErrors = 0;
  apiCalls = 0;
  apiUnauthorized = 0;
  /** 429 (or 403) rate-limit answers, injected or from a documented budget */
  rateLimited = 0;
  faultDrops = 0;
  faultHangs = 0;
  fault5xx = 0;
  delayed = 0;
  held = 0;
  /** refreshes processed after their client had gone (a held request with processAbandoned): rotated, answer lost */
  answersLost = 0;
}

const EXAMPLES_PER_KIND = 5;
const FAMILIES_LISTED = 1000;

class ProviderLog {
  counts = Object.fromEntries(ANOMALY_KINDS.map((k) => [k, 0])) as Record<AnomalyKind, number>;
  examples = Object.fromEntries(ANOMALY_KINDS.map((k) => [k, []])) as unknown as Record<
    AnomalyKind,
    AnomalyExample[]
  >;
  revokedFamilies: RevokedFamily[] = [];
  revokedFamiliesTotal = 0;
  traffic = new Traffic();
}

export class AnomalyLog {
  private logs = new Map<ProviderKey, ProviderLog>();

  /** The log of one provider, started the first time the provider is seen. */
  private logOf(provider: ProviderKey): ProviderLog {
    let log = this.logs.get(provider);
    if (!log) {
      log = new ProviderLog();
      this.logs.set(provider, log);
    }
    return log;
  }

  count(
    provider: ProviderKey,
    kind: AnomalyKind,
    now: number,
    example: () => Omit<AnomalyExample, 'at'>,
  ): void {
    const log = this.logOf(provider);
    log.counts[kind] += 1;
    const examples = log.examples[kind];
    if (examples.length < EXAMPLES_PER_KIND) examples.push({ at: new Date(now).toISOString(), ...example() });
  }

  familyRevoked(grant: Grant, now: number): void {
    const log = this.logOf(grant.provider);
    log.revokedFamiliesTotal += 1;
    if (log.revokedFamilies.length < FAMILIES_LISTED) {
      log.revokedFamilies.push({
        grantId: grant.id,
        accountId: grant.account.id,
        reason: grant.revokedReason ?? 'revoked_by_control',
        at: new Date(now).toISOString(),
      });
    }
  }

  traffic(provider: ProviderKey): Traffic {
    return this.logOf(provider).traffic;
  }

  clear(): void {
    this.logs.clear();
  }

  snapshot(): { anomalies: number; providers: ProviderReports } {
    let anomalies = 0;
    const providers: Record<ProviderKey, ProviderReport> = {};
    for (const provider of PROVIDER_KEYS) {
      const log = this.logOf(provider);
      const total = ANOMALY_KINDS.reduce((sum, kind) => sum + log.counts[kind], 0);
      anomalies += total;
      providers[provider] = {
        anomalies: total,
        counts: { ...log.counts },
        examples: structuredClone(log.examples),
        revokedFamilies: [...log.revokedFamilies],
        revokedFamiliesTotal: log.revokedFamiliesTotal,
        traffic: { ...log.traffic },
      };
    }
    return { anomalies, providers: providers as ProviderReports };
  }
}

/** Every declared provider's report; the built-ins' are always there. */
export type ProviderReports = Readonly<Record<BuiltInProviderKey, ProviderReport>> &
  Readonly<Partial<Record<ProviderKey, ProviderReport>>>;

export interface ProviderReport {
  anomalies: number;
  counts: Record<AnomalyKind, number>;
  examples: Record<AnomalyKind, AnomalyExample[]>;
  revokedFamilies: RevokedFamily[];
  revokedFamiliesTotal: number;
  traffic: Traffic;
}
