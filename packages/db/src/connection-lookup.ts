// The reads the application API makes of connections: by owner, by team, by owner and provider,
// and what a token read answers with besides the token. Safe fields only, except `tokenView`,
// whose ciphertext never leaves the api process in any form but the token itself.
import type { ProviderKey } from '@conduit/core';
import { SAFE_CONNECTION_FIELDS, type SafeConnection } from './connections.ts';
import type { PrismaClient } from './generated/client.ts';

export interface ConnectionListQuery {
  ownerId?: string | undefined;
  teamId?: string | undefined;
  provider?: ProviderKey | undefined;
}

export interface TokenView {
  id: string;
  ownerId: string;
  teamId: string | null;
  provider: ProviderKey;
  accessTokenEnc: string | null;
  tokenExpiresAt: Date | null;
  scopes: string[];
}

export class ConnectionLookup {
  constructor(private readonly db: PrismaClient) {}

  /** One owner's connections, or one team's; at least one of the two must be given. */
  list(query: ConnectionListQuery): Promise<SafeConnection[]> {
    if (query.ownerId === undefined && query.teamId === undefined)
      throw new Error('ConnectionLookup.list: pass ownerId or teamId');
    return this.db.connection.findMany({
      where: {
        ...(query.ownerId !== undefined && { ownerId: query.ownerId }),
        ...(query.teamId !== undefined && { teamId: query.teamId }),
        ...(query.provider !== undefined && { provider: query.provider }),
      },
      select: SAFE_CONNECTION_FIELDS,
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
  }

  safeById(id: string): Promise<SafeConnection | null> {
    return this.db.connection.findUnique({ where: { id }, select: SAFE_CONNECTION_FIELDS });
  }

  /** The id of the owner's connection to this provider (unique on owner and provider). */
  async idOf(ownerId: string, provider: ProviderKey): Promise<string | null> {
    const row = await this.db.connection.findUnique({
      where: { ownerId_provider: { ownerId, provider } },
      select: { id: true },
    });
    return row?.id ?? null;
  }

  /** Who owns it and what its stored token is good for, to answer a token read with. */
  tokenView(id: string): Promise<TokenView | null> {
    return this.db.connection.findUnique({
      where: { id },
      select: {
        id: true,
        ownerId: true,
        teamId: true,
        provider: true,
        accessTokenEnc: true,
        tokenExpiresAt: true,
        scopes: true,
      },
    });
  }
}
