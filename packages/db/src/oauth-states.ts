// OAuth `state`s between the start of a connect flow and its callback. Only the SHA-256 of a
// state is stored; a state is consumed once, atomically, and only for the provider it was
// issued for and before it expires — so a replayed, expired, forged or cross-provider callback
// changes nothing.
import type { ProviderKey } from '@conduit/core';
import type { OAuthState, PrismaClient } from './generated/client.ts';

export interface NewOAuthState {
  stateHash: string;
  provider: ProviderKey;
  ownerId: string;
  teamId: string | null;
  returnTo: string | null;
  /** vault ciphertext of the PKCE verifier */
  codeVerifierEnc: string | null;
  redirectUri: string;
  expiresAt: Date;
}

/** Why a callback's state was refused. */
export type StateRefusal = 'unknown' | 'expired' | 'already_used' | 'other_provider';

export type ConsumedState = { ok: true; state: OAuthState } | { ok: false; reason: StateRefusal };

export class OAuthStateRepository {
  constructor(private readonly db: PrismaClient) {}

  async create(input: NewOAuthState): Promise<void> {
    await this.db.oAuthState.create({ data: input });
  }

  /**
   * Marks the state used and returns it, in one statement: of two callbacks racing with the
   * same state, exactly one gets it. When refused, says why (for the user's error page).
   */
  async consume(stateHash: string, provider: ProviderKey): Promise<ConsumedState> {
    const rows = await this.db.$queryRaw<OAuthState[]>`
      UPDATE "OAuthState" SET "consumedAt" = now()
      WHERE "stateHash" = ${stateHash}
        AND provider = ${provider}::text
        AND "consumedAt" IS NULL
        AND "expiresAt" > now()
      RETURNING *`;
    const state = rows[0];
    if (state) return { ok: true, state };
    const known = await this.db.oAuthState.findUnique({
      where: { stateHash },
      select: { provider: true, consumedAt: true, expiresAt: true },
    });
    if (!known) return { ok: false, reason: 'unknown' };
    if (known.provider !== provider) return { ok: false, reason: 'other_provider' };
    if (known.consumedAt !== null) return { ok: false, reason: 'already_used' };
    return { ok: false, reason: 'expired' };
  }

  /** For the cleanup sweep: states past their expiry are useless. */
  async deleteExpired(before: Date): Promise<number> {
    const { count } = await this.db.oAuthState.deleteMany({ where: { expiresAt: { lt: before } } });
    return count;
  }
}
