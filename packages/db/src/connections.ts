// Connections: reads for the refresh path and the sweeps, and every token write, each guarded by
// a compare-and-set on `version` so a worker that lost its lock can never overwrite newer tokens.
import type { ConnectionStatus, ProviderKey, TransitionCause } from '@conduit/core';
import { Prisma, type Connection, type PrismaClient } from './generated/client.ts';
import { ConnectionLeases } from './connection-leases.ts';
import { changeStatus, StaleVersionError, type OutboxEntry } from './status-change.ts';

export type ConnectionRow = Connection;

export interface RefreshedTokens {
  accessTokenEnc: string;
  /** undefined: the provider sent no new refresh token, keep the stored one */
  refreshTokenEnc?: string;
  tokenExpiresAt: Date | null;
  /** the lifetime issued with the access token (`expires_in`); undefined: unchanged */
  tokenLifetimeSeconds?: number | null;
  /** undefined: unchanged */
  refreshTokenExpiresAt?: Date | null;
  scopes?: string[];
}

export interface TransientFailure {
  lastError: string;
  failingSince: Date;
  /** the sweep leaves the connection alone until then (retries exhausted) */
  notBefore?: Date;
  markTokenExpired: boolean;
}

export interface DueCursor {
  tokenExpiresAt: Date;
  id: string;
}

/** Safe fields only: what the API, CLI and health page may show. Never a token. */
export const SAFE_CONNECTION_FIELDS = {
  id: true,
  ownerId: true,
  teamId: true,
  provider: true,
  externalAccountId: true,
  externalEmail: true,
  status: true,
  statusReason: true,
  statusChangedAt: true,
  tokenExpiresAt: true,
  refreshTokenExpiresAt: true,
  scopes: true,
  lastRefreshAt: true,
  lastRefreshError: true,
  lastSyncAt: true,
  lastSyncError: true,
  failureCount: true,
  createdAt: true,
  updatedAt: true,
} as const satisfies Prisma.ConnectionSelect;

export type SafeConnection = Prisma.ConnectionGetPayload<{ select: typeof SAFE_CONNECTION_FIELDS }>;

export interface DueQuery {
  status: Extract<ConnectionStatus, 'connected' | 'token_expired'>;
  /** tokens expiring before this (the index range: now + buffer + interval) */
  dueBefore: Date;
  /**
   * the worker's rule (core's refreshDueAt): only tokens whose refresh is due by `dueBy`, their
   * lead being min(buffer, share × issued lifetime) — so a queued job is never `fresh` on arrival
   */
  due?: { dueBy: Date; bufferSeconds: number; lifetimeShare: number } | undefined;
  after?: DueCursor | undefined;
  limit: number;
}

const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * One batch of connections whose access token is due, for one status, in (tokenExpiresAt, id)
 * order after `after`: an index range scan on (status, tokenExpiresAt, id) whose cost grows
 * with the batch, not the table.
 */
function dueForRefreshSql({ status, dueBefore, due, after, limit }: DueQuery): Prisma.Sql {
  const dueRule = due
    ? Prisma.sql`AND "tokenExpiresAt" - make_interval(secs => LEAST(${due.bufferSeconds}::float8,
          COALESCE("tokenLifetimeSeconds" * ${due.lifetimeShare}::float8, ${due.bufferSeconds}::float8))) <= ${due.dueBy}`
    : Prisma.empty;
  return Prisma.sql`
    SELECT id, provider, "tokenExpiresAt", "tokenLifetimeSeconds", "refreshNotBefore", "lastRefreshAt"
    FROM "Connection"
    WHERE status = ${status}::"ConnectionStatus"
      AND "tokenExpiresAt" < ${dueBefore}
      ${dueRule}
      AND ("tokenExpiresAt", id) > (${after?.tokenExpiresAt ?? new Date(0)}, ${after?.id ?? NIL_UUID}::uuid)
    ORDER BY "tokenExpiresAt", id
    LIMIT ${limit}`;
}

export class ConnectionRepository {
  constructor(private readonly db: PrismaClient) {}

  /**
   * One connection by id. Raw SQL through the same client: on the refresh path this read and the
   * compare-and-set below cost about a third of the CPU of the generated queries
   * (docs/benchmarks.md), and every column maps 1:1 onto the model.
   */
  async findById(id: string): Promise<ConnectionRow | null> {
    const rows = await this.db.$queryRaw<ConnectionRow[]>`SELECT * FROM "Connection" WHERE id = ${id}::uuid`;
    return rows[0] ?? null;
  }

  /**
   * Stores refreshed tokens if nobody wrote since `conn` was read. A connection that was not
   * `connected` goes back to `connected` with its event and a `connection.recovered` notification.
   * Returns false when the compare-and-set lost (newer tokens are already stored).
   */
  async storeRefreshedTokens(
    conn: ConnectionRow,
    tokens: RefreshedTokens,
    now: Date,
    /** the refresh lease this write ends: cleared in the same statement when this owner holds it */
    leaseOwner?: string,
  ): Promise<boolean> {
    const owner = leaseOwner ?? null;
    const data: Prisma.ConnectionUpdateManyMutationInput = {
      accessTokenEnc: tokens.accessTokenEnc,
      tokenExpiresAt: tokens.tokenExpiresAt,
      lastRefreshAt: now,
      lastRefreshError: null,
      failureCount: 0,
      failingSince: null,
      refreshNotBefore: null,
      ...(tokens.refreshTokenEnc !== undefined && { refreshTokenEnc: tokens.refreshTokenEnc }),
      ...(tokens.refreshTokenExpiresAt !== undefined && {
        refreshTokenExpiresAt: tokens.refreshTokenExpiresAt,
      }),
      ...(tokens.scopes !== undefined && { scopes: tokens.scopes }),
      ...(tokens.tokenLifetimeSeconds !== undefined && { tokenLifetimeSeconds: tokens.tokenLifetimeSeconds }),
    };
    if (conn.status === 'connected') {
      // The hot path: one statement, no transaction, no event (a refresh is not a status change).
      const count = await this.db.$executeRaw`
        UPDATE "Connection" SET
          "accessTokenEnc" = ${tokens.accessTokenEnc},
          "tokenExpiresAt" = ${tokens.tokenExpiresAt},
          "tokenLifetimeSeconds" = ${tokens.tokenLifetimeSeconds !== undefined ? Prisma.sql`${tokens.tokenLifetimeSeconds}::int` : Prisma.raw('"tokenLifetimeSeconds"')},
          "refreshTokenEnc" = ${tokens.refreshTokenEnc !== undefined ? Prisma.sql`${tokens.refreshTokenEnc}` : Prisma.raw('"refreshTokenEnc"')},
          "refreshTokenExpiresAt" = ${tokens.refreshTokenExpiresAt !== undefined ? Prisma.sql`${tokens.refreshTokenExpiresAt}` : Prisma.raw('"refreshTokenExpiresAt"')},
          "scopes" = ${tokens.scopes !== undefined ? Prisma.sql`${tokens.scopes}::text[]` : Prisma.raw('"scopes"')},
          "lastRefreshAt" = ${now},
          "lastRefreshError" = NULL,
          "failureCount" = 0,
          "failingSince" = NULL,
          "refreshNotBefore" = NULL,
          "leaseOwner" = CASE WHEN "leaseOwner" = ${owner} THEN NULL ELSE "leaseOwner" END,
          "leaseUntil" = CASE WHEN "leaseOwner" = ${owner} THEN NULL ELSE "leaseUntil" END,
          "version" = "version" + 1,
          "updatedAt" = ${now}
        WHERE id = ${conn.id}::uuid AND "version" = ${conn.version}`;
      return count === 1;
    }
    // A recovery is a status change (event + notification); it runs rarely, so its lease is
    // cleared by a statement of its own once the change has landed.
    const changed = await this.changeStatus(conn, 'connected', { kind: 'refreshed' }, now, {
      data,
      notify: [{ type: 'connection.recovered', payload: notificationPayload(conn, { from: conn.status }) }],
    });
    if (changed && owner !== null) await new ConnectionLeases(this.db).release(conn.id, owner);
    return changed;
  }

  /** Records a transient failure (timeout, 5xx, network) and, if the token lapsed meanwhile, `token_expired`. */
  async recordTransientFailure(conn: ConnectionRow, failure: TransientFailure, now: Date): Promise<boolean> {
    const data: Prisma.ConnectionUpdateManyMutationInput = {
      lastRefreshError: failure.lastError,
      failureCount: { increment: 1 },
      failingSince: failure.failingSince,
      ...(failure.notBefore && { refreshNotBefore: failure.notBefore }),
    };
    if (failure.markTokenExpired && conn.status === 'connected') {
      return this.changeStatus(conn, 'token_expired', { kind: 'access_token_lapsed' }, now, { data });
    }
    const { count } = await this.db.connection.updateMany({
      where: { id: conn.id, version: conn.version },
      data: { ...data, version: { increment: 1 } },
    });
    return count === 1;
  }

  /**
   * Changes status through the status machine with its event and notifications in one
   * transaction. Returns false when the compare-and-set lost.
   */
  async changeStatus(
    conn: ConnectionRow,
    to: ConnectionStatus,
    cause: TransitionCause,
    now: Date,
    extra: { data?: Prisma.ConnectionUpdateManyMutationInput; notify?: OutboxEntry[] } = {},
  ): Promise<boolean> {
    try {
      await this.db.$transaction((tx) =>
        changeStatus(tx, {
          connectionId: conn.id,
          provider: conn.provider,
          from: conn.status,
          to,
          cause,
          at: now,
          expectedVersion: conn.version,
          ...(extra.data && { data: extra.data }),
          ...(extra.notify && { notify: extra.notify }),
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof StaleVersionError) return false;
      throw err;
    }
  }

  /**
   * One batch of connections whose access token is due, for one status, in (tokenExpiresAt, id)
   * order after `after`: an index range scan on (status, tokenExpiresAt, id) whose cost grows
   * with the batch, not the table.
   */
  listDueForRefresh(
    args: DueQuery,
  ): Promise<
    Array<
      Pick<
        ConnectionRow,
        'id' | 'provider' | 'tokenExpiresAt' | 'tokenLifetimeSeconds' | 'refreshNotBefore' | 'lastRefreshAt'
      >
    >
  > {
    return this.db.$queryRaw(dueForRefreshSql(args));
  }

  /** The plan Postgres chooses for one sweep batch (EXPLAIN ANALYZE, JSON), for benchmarks and tests. */
  async explainDueForRefresh(args: DueQuery): Promise<unknown> {
    const rows = await this.db.$queryRaw<Array<{ 'QUERY PLAN': unknown }>>(
      Prisma.sql`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${dueForRefreshSql(args)}`,
    );
    return rows[0]?.['QUERY PLAN'];
  }

  /** Connections whose refresh token lapses before `before`, by index on (status, refreshTokenExpiresAt, id). */
  listRefreshTokensLapsing(args: {
    status: Extract<ConnectionStatus, 'connected' | 'token_expired'>;
    before: Date;
    after?: { refreshTokenExpiresAt: Date; id: string } | undefined;
    limit: number;
  }): Promise<
    Array<Pick<ConnectionRow, 'id' | 'provider' | 'ownerId' | 'teamId' | 'refreshTokenExpiresAt'>>
  > {
    const { status, before, after, limit } = args;
    return this.db.$queryRaw`
      SELECT id, provider, "ownerId", "teamId", "refreshTokenExpiresAt"
      FROM "Connection"
      WHERE status = ${status}::"ConnectionStatus"
        AND "refreshTokenExpiresAt" < ${before}
        AND ("refreshTokenExpiresAt", id) > (${after?.refreshTokenExpiresAt ?? new Date(0)}, ${after?.id ?? NIL_UUID}::uuid)
      ORDER BY "refreshTokenExpiresAt", id
      LIMIT ${limit}`;
  }

  /** Connections in `error` since before `changedBefore` that hold a refresh token, by id (keyset). */
  listInError(args: {
    changedBefore: Date;
    after?: string | undefined;
    limit: number;
  }): Promise<Array<Pick<ConnectionRow, 'id' | 'provider'>>> {
    return this.db.connection.findMany({
      where: {
        status: 'error',
        statusChangedAt: { lt: args.changedBefore },
        refreshTokenEnc: { not: null },
        ...(args.after && { id: { gt: args.after } }),
      },
      select: { id: true, provider: true },
      orderBy: { id: 'asc' },
      take: args.limit,
    });
  }

  /** A provider-wide notification (no connection), deduplicated by key. */
  notifyProvider(provider: ProviderKey, entry: OutboxEntry): Promise<void> {
    return this.notify(null, provider, entry);
  }

  /** A notification about one connection that is not a status change, deduplicated by key. */
  notifyConnection(connectionId: string, provider: ProviderKey, entry: OutboxEntry): Promise<void> {
    return this.notify(connectionId, provider, entry);
  }

  private async notify(
    connectionId: string | null,
    provider: ProviderKey,
    entry: OutboxEntry,
  ): Promise<void> {
    await this.db.notification.createMany({
      data: [
        {
          type: entry.type,
          connectionId,
          provider,
          payload: entry.payload as Prisma.InputJsonValue,
          dedupeKey: entry.dedupeKey ?? null,
        },
      ],
      skipDuplicates: true,
    });
  }

  /** The provider (the lane) and owner of a connection, without reading its tokens. */
  routingOf(id: string): Promise<{ provider: ProviderKey; ownerId: string } | null> {
    return this.db.connection.findUnique({ where: { id }, select: { provider: true, ownerId: true } });
  }
}

/** What the embedding app receives about a connection: ids it owns, never a token. */
export function notificationPayload(
  conn: Pick<ConnectionRow, 'id' | 'ownerId' | 'teamId' | 'provider'>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    connectionId: conn.id,
    ownerId: conn.ownerId,
    teamId: conn.teamId,
    provider: conn.provider,
    ...extra,
  };
}
