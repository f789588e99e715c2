// What the connect plugin works with; built from the app context unless a test passes its own.
import { isProviderKey, type ProviderKey, type TokenEndpointOutcome } from '@conduit/core';
import type { OAuthStateRepository } from '@conduit/db';
import type { AccountBudget, FathomWebhookRegistrar, RevocationDrain } from '@conduit/jobs';
import type { IdentityAnswer } from '@conduit/providers';
import type { AppContext } from '@conduit/runtime';
import { HttpProblem } from '../../problem.ts';

export interface CodeExchanger {
  exchangeCode(
    provider: ProviderKey,
    exchange: { code: string; redirectUri: string; codeVerifier?: string },
  ): Promise<TokenEndpointOutcome>;
}

export interface AccountIdentifier {
  identify(provider: ProviderKey, accessToken: string): Promise<IdentityAnswer>;
}

export interface ConnectDeps {
  ctx: AppContext;
  tokens: CodeExchanger;
  identity: AccountIdentifier;
  states: OAuthStateRepository;
  budgets: Partial<Record<ProviderKey, AccountBudget>>;
  /** attempts a queued revocation (GrantRevocation) right after the disconnect answered */
  revocations?: Pick<RevocationDrain, 'attemptSoon'>;
  /** per-connection Fathom webhooks; absent in operator webhook mode */
  webhooks?: Pick<FathomWebhookRegistrar, 'register' | 'remove'>;
}

/** The provider named in the path, if Conduit knows it and it is enabled. */
export function enabledProvider(ctx: AppContext, name: string): ProviderKey | undefined {
  return isProviderKey(name) && ctx.config.providers.clients[name]?.enabled === true ? name : undefined;
}

export function requireEnabledProvider(ctx: AppContext, name: string): ProviderKey {
  const provider = enabledProvider(ctx, name);
  if (provider === undefined) {
    throw new HttpProblem(
      404,
      'unknown-provider',
      'Unknown provider',
      `"${name.slice(0, 40)}" is not an enabled provider; set its client id and secret to enable it`,
    );
  }
  return provider;
}
