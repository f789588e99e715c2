// getValidAccessToken: the one call application code makes. It returns a usable access token,
// refreshing inline under the same lock and rules as the workers when the token is within the
// buffer. Callers in this process that arrive during a refresh share it; callers in other
// processes wait for the lock holder and then find the connection fresh.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConnectionRow } from '@conduit/db';
import { isRefreshDue } from '@conduit/core';
import type { RefreshDeps } from './deps.ts';
import { refreshConnection, type RefreshResult } from './refresh-connection.ts';

export type AccessTokenErrorCode =
  'not_found' | 'not_connected' | 'needs_reauth' | 'connection_error' | 'unavailable';

export class AccessTokenError extends Error {
  constructor(
    readonly code: AccessTokenErrorCode,
    readonly connectionId: string,
    message: string,
    /** for `unavailable`: when trying again may help */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'AccessTokenError';
  }
}

export interface AccessTokenOptions {
  /** how often a caller waiting on another process's refresh looks again */
  pollMs?: number;
}

export interface GetAccessTokenOptions {
  /**
   * Refresh now even though the stored token looks valid (a provider answered 401 to it).
   * Shared by concurrent forced callers in this process; callers limit it across processes.
   */
  forceRefresh?: boolean;
}

export class AccessTokens {
  private readonly inflight = new Map<string, Promise<RefreshResult>>();
  private readonly pollMs: number;

  constructor(
    private readonly deps: RefreshDeps,
    options: AccessTokenOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 50;
  }

  async getValidAccessToken(connectionId: string, options: GetAccessTokenOptions = {}): Promise<string> {
    const forced = options.forceRefresh === true;
    const now = this.deps.now?.() ?? new Date();
    const conn = await this.deps.connections.findById(connectionId);
    const usable = this.usable(conn, connectionId, now);
    if (usable !== null && !forced && !this.withinBuffer(usable, now))
      return this.deps.vault.decrypt(usable.accessTokenEnc!);

    const result = await this.refreshShared(connectionId, forced ? 'manual' : 'inline');
    const after = await this.deps.connections.findById(connectionId);
    const fresh = this.usable(after, connectionId, this.deps.now?.() ?? new Date());
    // A token inside the buffer but not yet lapsed is still good when the refresh had to wait;
    // a forced caller was refused that token, so it only takes one stored by a refresh.
    const storedAnew = !forced || ['refreshed', 'lost_race', 'skipped'].includes(result.kind);
    if (
      fresh !== null &&
      storedAnew &&
      (fresh.tokenExpiresAt === null || fresh.tokenExpiresAt.getTime() > Date.now())
    ) {
      return this.deps.vault.decrypt(fresh.accessTokenEnc!);
    }
    const retryAfterMs =
      result.kind === 'gated' || result.kind === 'rate_limited' || result.kind === 'retry'
        ? result.delayMs
        : undefined;
    throw new AccessTokenError(
      'unavailable',
      connectionId,
      `connection ${connectionId}: the access token has expired and could not be refreshed now (${result.kind}); try again later`,
      retryAfterMs,
    );
  }

  /** The connection if its status lets it have a token; throws a typed error otherwise. */
  private usable(conn: ConnectionRow | null, connectionId: string, _now: Date): ConnectionRow | null {
    if (!conn)
      throw new AccessTokenError('not_found', connectionId, `connection ${connectionId} does not exist`);
    switch (conn.status) {
      case 'disconnected':
        throw new AccessTokenError(
          'not_connected',
          connectionId,
          `connection ${connectionId} is disconnected`,
        );
      case 'needs_reauth':
        throw new AccessTokenError(
          'needs_reauth',
          connectionId,
          `connection ${connectionId} needs the user to reconnect (${conn.statusReason ?? 'refresh token refused'})`,
        );
      case 'error':
        throw new AccessTokenError(
          'connection_error',
          connectionId,
          `connection ${connectionId} is in error (${conn.statusReason ?? 'unknown'}); an operator must look at it`,
        );
      case 'connected':
      case 'token_expired':
        if (!conn.accessTokenEnc) {
          throw new AccessTokenError(
            'not_connected',
            connectionId,
            `connection ${connectionId} holds no access token`,
          );
        }
        return conn;
    }
  }

  private withinBuffer(conn: ConnectionRow, now: Date): boolean {
    if (conn.status === 'token_expired') return true;
    return (
      conn.tokenExpiresAt !== null &&
      isRefreshDue(
        {
          tokenExpiresAt: conn.tokenExpiresAt,
          tokenLifetimeSeconds: conn.tokenLifetimeSeconds,
          bufferMs: this.deps.settings.bufferMs,
        },
        now,
      )
    );
  }

  private refreshShared(connectionId: string, reason: 'inline' | 'manual'): Promise<RefreshResult> {
    const key = `${reason}:${connectionId}`;
    let p = this.inflight.get(key);
    if (!p) {
      p = this.refreshOrWait(connectionId, reason).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  /** Refreshes, or — while another process holds the lock — waits for it and looks again. */
  private async refreshOrWait(connectionId: string, reason: 'inline' | 'manual'): Promise<RefreshResult> {
    const deadline = Date.now() + this.deps.settings.lockTtlMs;
    for (;;) {
      const result = await refreshConnection(this.deps, { connectionId, reason });
      if (result.kind !== 'busy' || Date.now() >= deadline) return result;
      await sleep(this.pollMs);
    }
  }
}
