// Authorization codes between authorize and the code exchange: single use, 10 minutes.
import type { ProviderKey } from '@conduit/core';
import type { Account } from '../grants/accounts.ts';
import { newAuthorizationCode } from '../tokens.ts';

export const CODE_LIFETIME_MS = 10 * 60 * 1000;

export interface AuthorizationCode {
  provider: ProviderKey;
  clientId: string;
  redirectUri: string;
  scope: string[];
  account: Account;
  /** S256 challenge, when the provider supports PKCE and the client sent one */
  codeChallenge: string | null;
  expiresAt: number;
  used: boolean;
}

export class CodeStore {
  private readonly codes = new Map<string, AuthorizationCode>();

  issue(details: Omit<AuthorizationCode, 'used'>): string {
    const code = newAuthorizationCode();
    this.codes.set(code, { ...details, used: false });
    return code;
  }

  get(code: string | undefined): AuthorizationCode | undefined {
    return code === undefined ? undefined : this.codes.get(code);
  }

  clear(): void {
    this.codes.clear();
  }
}

export type ConsentDecision = 'approve' | 'deny';

/** What the (simulated) user does on the consent screen, per provider, until reset. */
export class ConsentSettings {
  private readonly settings = new Map<
    ProviderKey,
    { decision: ConsentDecision; email?: string | undefined }
  >();

  set(provider: ProviderKey, decision: ConsentDecision, email?: string): void {
    this.settings.set(provider, { decision, email });
  }

  get(provider: ProviderKey): { decision: ConsentDecision; email?: string | undefined } {
    return this.settings.get(provider) ?? { decision: 'approve' };
  }

  clear(): void {
    this.settings.clear();
  }
}
