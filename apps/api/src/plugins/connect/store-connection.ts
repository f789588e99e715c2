// A successful code exchange becomes a connection: tokens encrypted, the account named, the
// connection created or reconnected (same id), identity calls charged to the account's budget,
// and a first sync queued where the provider has one.
import {
  refreshTokenExpiresAt,
  type AccountIdentity,
  type ProviderKey,
  type TokenEndpointOutcome,
  providerSpec,
} from '@conduit/core';
import { storeGrant, type StoredGrant } from '@conduit/db';
import { accountBudgetKey, enqueueSync, syncLaneOf } from '@conduit/jobs';
import type { ConnectDeps } from './deps.ts';

export interface NewGrant {
  provider: ProviderKey;
  ownerId: string;
  teamId: string | null;
  tokens: Extract<TokenEndpointOutcome, { kind: 'tokens' }>;
  identity: AccountIdentity | null;
  /** API requests the identification made */
  identityRequests: number;
}

export async function storeConnection(deps: ConnectDeps, grant: NewGrant): Promise<StoredGrant> {
  const { ctx } = deps;
  const spec = providerSpec(grant.provider);
  const now = new Date();
  const { tokens } = grant;
  const refreshToken =
    tokens.refreshToken !== undefined && tokens.refreshToken !== '' ? tokens.refreshToken : null;
  const stored = await storeGrant(
    ctx.db,
    {
      ownerId: grant.ownerId,
      teamId: grant.teamId,
      provider: grant.provider,
      externalAccountId: grant.identity?.accountId ?? null,
      externalEmail: grant.identity?.email ?? null,
      accessTokenEnc: ctx.vault.encrypt(tokens.accessToken),
      refreshTokenEnc: refreshToken === null ? null : ctx.vault.encrypt(refreshToken),
      tokenExpiresAt:
        tokens.expiresInSeconds === undefined
          ? null
          : new Date(now.getTime() + tokens.expiresInSeconds * 1000),
      tokenLifetimeSeconds: tokens.expiresInSeconds ?? null,
      refreshTokenExpiresAt:
        refreshToken === null
          ? null
          : refreshTokenExpiresAt(spec, {
              consentedAt: now,
              lastUsedAt: now,
              refreshTokenExpiresInSeconds: tokens.refreshTokenExpiresInSeconds,
            }),
      scopes:
        tokens.scope !== undefined
          ? splitScopes(tokens.scope, spec.scopes.separator)
          : [...spec.scopes.default],
    },
    now,
  );
  // The connection is stored: what follows is best effort (the hourly sweep syncs it anyway).
  try {
    const budget = deps.budgets[grant.provider];
    if (budget) {
      const key = accountBudgetKey(grant.provider, {
        id: stored.connectionId,
        externalAccountId: grant.identity?.accountId ?? null,
        externalEmail: grant.identity?.email ?? null,
      });
      await budget.note(key, grant.identityRequests);
    }
    if (syncLaneOf(grant.provider) !== undefined) {
      await enqueueSync(ctx.queues, grant.provider, {
        connectionId: stored.connectionId,
        mode: 'incremental',
        reason: 'connected',
      });
    }
  } catch (err) {
    ctx.logger.warn(
      { provider: grant.provider, connectionId: stored.connectionId, err: (err as Error).message },
      'connect: the first sync could not be queued; the sync sweep will pick the connection up',
    );
  }
  // A webhook of the connection's own (a reconnect replaces it, with a new secret). Never fails
  // the connect: what did not happen now, the webhook sweep does.
  if (providerSpec(grant.provider).dataSync === 'fathom_meetings' && deps.webhooks) {
    try {
      await deps.webhooks.register(stored.connectionId, tokens.accessToken);
    } catch (err) {
      ctx.logger.warn(
        { provider: grant.provider, connectionId: stored.connectionId, err: (err as Error).message },
        'connect: the webhook could not be registered; the webhook sweep will register it',
      );
    }
  }
  return stored;
}

function splitScopes(scope: string, separator: string): string[] {
  return scope.split(separator === ',' ? /[,\s]+/ : /\s+/).filter(Boolean);
}
