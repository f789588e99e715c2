// What a token read answers: the access token from getValidAccessToken (refreshed inline when
// due, under the same lock as the workers), with the expiry and scopes stored beside that very
// token. Forced refreshes go through the per-connection window first. Used by the token routes
// and the provider proxy alike, so both follow the same rules.
import type { TokenVault } from '@conduit/core';
import type { ConnectionLookup, TokenView } from '@conduit/db';
import { AccessTokenError, type AccessTokens } from '@conduit/jobs';
import type { ForcedRefreshWindow } from './forced-refresh-window.ts';

export interface AccessTokenAnswer {
  accessToken: string;
  tokenType: 'Bearer';
  expiresAt: string | null;
  scopes: string[];
  connectionId: string;
  provider: TokenView['provider'];
  /** the caller's owner id, for the hashed log line; never sent */
  ownerId: string;
  /** for a forced read: refreshed by this request, or the one refresh of the window shared */
  forced?: 'performed' | 'shared';
}

export interface TokenServiceDeps {
  accessTokens: AccessTokens;
  lookup: ConnectionLookup;
  vault: TokenVault;
  window: ForcedRefreshWindow;
  /** longest a forced read waits for another's refresh (the lock's TTL bounds any refresh) */
  maxWaitMs: number;
}

/** A refresh landing between reading the token and reading its row is rare; this bounds the retries. */
const MATCH_ATTEMPTS = 3;

export class TokenService {
  constructor(private readonly deps: TokenServiceDeps) {}

  async read(connectionId: string, opts: { forceRefresh?: boolean } = {}): Promise<AccessTokenAnswer> {
    let forced: AccessTokenAnswer['forced'];
    let token: string;
    if (opts.forceRefresh) {
      const claim = await this.deps.window.claim(connectionId);
      if (claim.claimed) {
        forced = 'performed';
        try {
          token = await this.deps.accessTokens.getValidAccessToken(connectionId, { forceRefresh: true });
        } finally {
          await claim.done();
        }
      } else {
        forced = 'shared';
        await this.deps.window.waitWhilePending(connectionId, this.deps.maxWaitMs);
        token = await this.deps.accessTokens.getValidAccessToken(connectionId);
      }
    } else {
      token = await this.deps.accessTokens.getValidAccessToken(connectionId);
    }

    for (let attempt = 1; ; attempt++) {
      const view = await this.deps.lookup.tokenView(connectionId);
      if (view?.accessTokenEnc && this.deps.vault.decrypt(view.accessTokenEnc) === token) {
        return {
          accessToken: token,
          tokenType: 'Bearer',
          expiresAt: view.tokenExpiresAt?.toISOString() ?? null,
          scopes: view.scopes,
          connectionId,
          provider: view.provider,
          ownerId: view.ownerId,
          ...(forced !== undefined && { forced }),
        };
      }
      if (attempt >= MATCH_ATTEMPTS) {
        throw new AccessTokenError(
          'unavailable',
          connectionId,
          `connection ${connectionId}: its tokens changed during every read; try again`,
          1_000,
        );
      }
      token = await this.deps.accessTokens.getValidAccessToken(connectionId);
    }
  }

  /** Who a connection belongs to, for error answers and logs; null when it does not exist. */
  view(connectionId: string): Promise<TokenView | null> {
    return this.deps.lookup.tokenView(connectionId);
  }
}
