// One provider API call on behalf of a connection, with every rule around it: a valid access
// token (getValidAccessToken), the account's request budget, a 429 that pauses the account, and
// a 401 that gets one forced refresh and one retry — a second 401 means the user must reconnect.
// Callers (the sync and transcript jobs) only decide what to do with the result.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiOutcome, ProviderKey } from '@conduit/core';
import { notificationPayload, type ConnectionRow } from '@conduit/db';
import { AccessTokenError, type AccessTokens } from '../refresh/access-tokens.ts';
import type { RefreshDeps } from '../refresh/deps.ts';
import { refreshConnection } from '../refresh/refresh-connection.ts';
import { accountBudgetKey, type AccountBudget } from './budget.ts';

export type CallResult<T> =
  | { kind: 'ok'; value: T }
  /** try again after `delayMs`: the budget is spent, the provider said wait, or no token can be had now */
  | { kind: 'wait'; delayMs: number; why: 'budget' | 'rate_limited' | 'token_unavailable' }
  | { kind: 'not_found'; detail: string }
  /** the connection cannot be used (needs_reauth, disconnected, error, gone): retrying cannot help */
  | { kind: 'stopped'; why: string; detail: string }
  | { kind: 'transient'; detail: string }
  | { kind: 'rejected'; detail: string };

export interface ApiCallerDeps {
  accessTokens: AccessTokens;
  refresh: RefreshDeps;
  /** per-account budgets, for the providers that document one */
  budgets: Partial<Record<ProviderKey, AccountBudget>>;
  /** wait when getValidAccessToken is unavailable without saying for how long */
  tokenRetryMs: number;
  /** how often to look while another process refreshes the connection */
  pollMs?: number;
}

export class ApiCaller {
  constructor(private readonly deps: ApiCallerDeps) {}

  async call<T>(
    conn: ConnectionRow,
    send: (accessToken: string) => Promise<ApiOutcome<T>>,
  ): Promise<CallResult<T>> {
    const budget = this.deps.budgets[conn.provider];
    const budgetKey = accountBudgetKey(conn.provider, conn);
    let refreshed = false;
    for (;;) {
      let token: string;
      try {
        token = await this.deps.accessTokens.getValidAccessToken(conn.id);
      } catch (err) {
        if (!(err instanceof AccessTokenError)) throw err;
        if (err.code === 'unavailable') {
          return {
            kind: 'wait',
            delayMs: err.retryAfterMs ?? this.deps.tokenRetryMs,
            why: 'token_unavailable',
          };
        }
        return { kind: 'stopped', why: err.code, detail: err.message };
      }
      const waitMs = budget ? await budget.take(budgetKey) : 0;
      if (waitMs > 0) return { kind: 'wait', delayMs: waitMs, why: 'budget' };

      const outcome = await send(token);
      switch (outcome.kind) {
        case 'ok':
          return { kind: 'ok', value: outcome.value };
        case 'rate_limited':
          await budget?.pause(budgetKey, outcome.waitMs);
          return { kind: 'wait', delayMs: outcome.waitMs, why: 'rate_limited' };
        case 'not_found':
          return { kind: 'not_found', detail: outcome.detail };
        case 'transient':
          return { kind: 'transient', detail: outcome.detail };
        case 'rejected':
          return { kind: 'rejected', detail: outcome.detail };
        case 'unauthorized': {
          if (refreshed) return this.markNeedsReauth(conn.id, outcome.detail);
          refreshed = true;
          const blocked = await this.forceRefresh(conn.id, token, outcome.detail);
          if (blocked) return blocked;
          continue;
        }
      }
    }
  }

  /** A 401 to a token we believed valid: refresh once, unless someone already stored a newer token. */
  private async forceRefresh(
    connectionId: string,
    used: string,
    detail: string,
  ): Promise<CallResult<never> | null> {
    const deps = this.deps.refresh;
    const deadline = Date.now() + deps.settings.lockTtlMs;
    for (;;) {
      if (await this.tokenChanged(connectionId, used)) return null;
      const result = await refreshConnection(deps, { connectionId, reason: 'manual' });
      switch (result.kind) {
        case 'refreshed':
        case 'rescued':
        case 'fresh':
        case 'lost_race':
          return null;
        case 'busy':
          // Another process is refreshing it: wait for its lease, then use what it stored.
          while ((await deps.leases.isHeld(connectionId)) && Date.now() < deadline) {
            await sleep(this.deps.pollMs ?? 50);
          }
          if (Date.now() >= deadline)
            return { kind: 'wait', delayMs: this.deps.tokenRetryMs, why: 'token_unavailable' };
          continue;
        case 'gated':
        case 'rate_limited':
        case 'retry':
          return { kind: 'wait', delayMs: result.delayMs, why: 'token_unavailable' };
        case 'gave_up':
          return {
            kind: 'transient',
            detail: `the token refresh keeps failing; retrying after ${result.notBefore.toISOString()}`,
          };
        case 'marked':
          return { kind: 'stopped', why: result.status, detail: result.reason };
        case 'skipped':
          // Nothing to refresh with (no refresh token, or no longer refreshable): the 401 stands.
          return result.reason === 'no_refresh_token'
            ? this.markNeedsReauth(connectionId, detail)
            : { kind: 'stopped', why: result.reason, detail: `connection ${connectionId}: ${result.reason}` };
      }
    }
  }

  private async tokenChanged(connectionId: string, used: string): Promise<boolean> {
    const row = await this.deps.refresh.connections.findById(connectionId);
    return row?.accessTokenEnc != null && this.deps.refresh.vault.decrypt(row.accessTokenEnc) !== used;
  }

  /** The refreshed token was refused too: the grant is no good, the user must reconnect. */
  private async markNeedsReauth(connectionId: string, detail: string): Promise<CallResult<never>> {
    const deps = this.deps.refresh;
    for (let attempt = 0; attempt < 3; attempt++) {
      const conn = await deps.connections.findById(connectionId);
      if (!conn)
        return { kind: 'stopped', why: 'not_found', detail: `connection ${connectionId} does not exist` };
      if (conn.status !== 'connected' && conn.status !== 'token_expired') break;
      const at = deps.now?.() ?? new Date();
      const cause = { kind: 'unauthorized_api_call', detail } as const;
      const changed = await deps.connections.changeStatus(conn, 'needs_reauth', cause, at, {
        data: { lastSyncError: detail },
        notify: [{ type: 'connection.needs_reauth', payload: notificationPayload(conn, { reason: detail }) }],
      });
      if (changed) {
        deps.logger.warn(
          { provider: conn.provider, connectionId, owner: deps.hashOwner(conn.ownerId), detail },
          'api: a refreshed access token was refused too; the connection needs the user to reconnect',
        );
        break;
      }
    }
    return { kind: 'stopped', why: 'needs_reauth', detail };
  }
}
