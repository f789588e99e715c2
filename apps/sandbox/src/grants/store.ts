// Grants: one per consent, each a family of tokens. The store mints tokens, rotates refresh
// tokens by the provider's rule, and remembers every token it ever issued so that a stale or
// rotated-out token can be told apart from an unknown one (O(1) Map lookups throughout).
import { type ProviderKey, providerSpec } from '@conduit/core';
import type { Lifetimes } from '../lifetimes.ts';
import { newAccessToken, newRefreshToken } from '../tokens.ts';
import type { Account } from './accounts.ts';

/** `revoked_by_client`: the client revoked it (RFC 7009, GitHub's delete-grant), as on a disconnect */
export type RevokeReason = 'refresh_token_reuse' | 'revoked_by_control' | 'revoked_by_client';

/** One issued access token. Kept after it is replaced, so late calls can be classified. */
export class AccessRecord {
  /** when the grant got a newer access token (Infinity: it is still the current one) */
  replacedAt = Infinity;
  /** its lapse was already counted as expiredWhileInUse */
  lapseCounted = false;

  constructor(
    readonly grant: Grant,
    readonly issuedAt: number,
    public expiresAt: number,
  ) {}
}

export class Grant {
  accessToken = '';
  access!: AccessRecord;
  /** the one valid refresh token of the family (null: the provider issues none) */
  refreshToken: string | null = null;
  refreshExpiresAt = Infinity;
  lastRefreshAt: number | null = null;
  /** User-Agent of the client the last successful refresh answered: who holds the newest tokens */
  lastRefreshClient: string | null = null;
  /** the last successful refresh was processed after its client had gone: nobody holds its tokens */
  lastAnswerLost = false;
  refreshes = 0;
  rotations = 0;
  /** rotated-out refresh tokens of this family presented again */
  reuses = 0;
  revokedAt: number | null = null;
  revokedReason: RevokeReason | null = null;
  /** refresh requests of this grant being processed right now (incl. delayed, held, hung) */
  inFlight = 0;
  /** last API call made with a valid access token of this grant */
  lastApiUseAt: number | null = null;

  constructor(
    readonly id: string,
    readonly provider: ProviderKey,
    readonly account: Account,
    readonly clientId: string,
    readonly scope: readonly string[],
    readonly consentedAt: number,
    readonly accessTtlSeconds: number | null,
  ) {}
}

export interface NewGrant {
  provider: ProviderKey;
  account: Account;
  clientId: string;
  scope: readonly string[];
  now: number;
  accessTtlSeconds?: number | undefined;
}

/** What a token response reports: the new refresh token only when one was issued. */
export interface IssuedTokens {
  grant: Grant;
  accessToken: string;
  expiresIn: number | null;
  refreshToken: string | null;
  refreshTokenExpiresIn: number | null;
}

export class GrantStore {
  readonly byId = new Map<string, Grant>();
  private readonly accessTokens = new Map<string, AccessRecord>();
  private readonly refreshTokens = new Map<string, Grant>();
  private seq = 0;
  /** Counts every change of a grant, so a snapshot is written only when something changed. */
  changes = 0;

  constructor(private readonly lifetimes: Lifetimes) {}

  /** How many grants were ever created: the next id continues from it after a restore. */
  get created(): number {
    return this.seq;
  }

  /** Takes back a grant from a snapshot, with its current tokens (rotated-out ones are not kept). */
  adopt(grant: Grant, access: { issuedAt: number; expiresAt: number }, created: number): void {
    this.byId.set(grant.id, grant);
    grant.access = new AccessRecord(grant, access.issuedAt, access.expiresAt);
    this.accessTokens.set(grant.accessToken, grant.access);
    if (grant.refreshToken !== null) this.refreshTokens.set(grant.refreshToken, grant);
    this.seq = Math.max(this.seq, created);
  }

  create(input: NewGrant): IssuedTokens {
    this.changes += 1;
    this.seq += 1;
    const id = `${input.provider}_g${String(this.seq).padStart(6, '0')}`;
    const ttl = input.accessTtlSeconds ?? this.lifetimes.accessTtlSeconds(input.provider);
    const grant = new Grant(id, input.provider, input.account, input.clientId, input.scope, input.now, ttl);
    this.byId.set(id, grant);
    this.issueAccess(grant, input.now);
    if (providerSpec(input.provider).refresh.kind === 'refresh_token') this.issueRefresh(grant, input.now);
    return this.issued(grant, input.now, grant.refreshToken);
  }

  /** A successful refresh: a new access token, and a new refresh token when `rotate`. */
  refresh(grant: Grant, now: number, rotate: boolean, client?: string): IssuedTokens {
    this.changes += 1;
    this.issueAccess(grant, now);
    grant.refreshes += 1;
    grant.lastRefreshAt = now;
    grant.lastRefreshClient = client ?? null;
    grant.lastAnswerLost = false;
    if (rotate) {
      grant.rotations += 1;
      this.issueRefresh(grant, now);
      return this.issued(grant, now, grant.refreshToken);
    }
    grant.refreshExpiresAt = this.lifetimes.refreshExpiresAt(grant.provider, grant.consentedAt, now);
    return this.issued(grant, now, null);
  }

  byAccessToken(token: string): AccessRecord | undefined {
    return this.accessTokens.get(token);
  }

  /** The grant any refresh token (current or rotated out) was issued to. */
  byRefreshToken(token: string): Grant | undefined {
    return this.refreshTokens.get(token);
  }

  /** Revokes the whole family; false when it already was. */
  revoke(grant: Grant, reason: RevokeReason, now: number): boolean {
    if (grant.revokedAt !== null) return false;
    this.changes += 1;
    grant.revokedAt = now;
    grant.revokedReason = reason;
    return true;
  }

  clear(): void {
    this.changes += 1;
    this.byId.clear();
    this.accessTokens.clear();
    this.refreshTokens.clear();
    this.seq = 0;
  }

  private issueAccess(grant: Grant, now: number): void {
    const token = newAccessToken(grant.provider);
    const expiresAt = grant.accessTtlSeconds === null ? Infinity : now + grant.accessTtlSeconds * 1000;
    const record = new AccessRecord(grant, now, expiresAt);
    if (grant.accessToken) grant.access.replacedAt = now;
    grant.access = record;
    grant.accessToken = token;
    this.accessTokens.set(token, record);
  }

  private issueRefresh(grant: Grant, now: number): void {
    const token = newRefreshToken(grant.provider);
    grant.refreshToken = token;
    grant.refreshExpiresAt = this.lifetimes.refreshExpiresAt(grant.provider, grant.consentedAt, now);
    this.refreshTokens.set(token, grant);
  }

  private issued(grant: Grant, now: number, refreshToken: string | null): IssuedTokens {
    const inResponse = refreshToken !== null && this.lifetimes.refreshLifetimeInResponse(grant.provider);
    return {
      grant,
      accessToken: grant.accessToken,
      expiresIn: grant.accessTtlSeconds,
      refreshToken,
      refreshTokenExpiresIn: inResponse
        ? Math.max(0, Math.round((grant.refreshExpiresAt - now) / 1000))
        : null,
    };
  }
}
