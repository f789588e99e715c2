// What operators run by hand (the CLI): the health counts they used to paste SQL for, finding
// lapsed connections, re-queuing reauth notices, replaying a webhook delivery, and moving
// ciphertexts to the active vault key. Status changes still go through ConnectionRepository.
import type { ConnectionStatus, ProviderKey } from '@conduit/core';
import { Prisma, type PrismaClient, type WebhookDelivery } from './generated/client.ts';
import { SAFE_CONNECTION_FIELDS, type SafeConnection } from './connections.ts';

const NO_ID = '00000000-0000-0000-0000-000000000000';
const HOUR_MS = 3_600_000;

export interface ProviderStatusRow {
  provider: ProviderKey;
  total: number;
  byStatus: Record<ConnectionStatus, number>;
  /** connected or token_expired, access token already expired */
  expired: number;
  /** connected or token_expired, access token expiring within the next hour */
  expiringWithin1h: number;
  /** the same within 24 hours (includes the hour) */
  expiringWithin24h: number;
  /** connected but holding no refresh token */
  connectedWithoutRefreshToken: number;
}

export interface LapsedCandidate {
  id: string;
  provider: ProviderKey;
  ownerId: string;
  tokenExpiresAt: Date | null;
  refreshTokenExpiresAt: Date | null;
  hasRefreshToken: boolean;
}

export interface ReauthCandidate {
  id: string;
  ownerId: string;
  teamId: string | null;
  provider: ProviderKey;
  statusChangedAt: Date;
  statusReason: string | null;
  /** needs_reauth notifications that went dead since the status change */
  dead: number;
}

export interface ConnectionCiphertexts {
  id: string;
  version: number;
  accessTokenEnc: string | null;
  refreshTokenEnc: string | null;
}

export interface OAuthStateCiphertext {
  id: string;
  codeVerifierEnc: string;
}

export class MaintenanceRepository {
  constructor(private readonly db: PrismaClient) {}

  /** Per provider: counts by status, expiries, connected without a refresh token. One pass over the table. */
  async statusByProvider(now: Date): Promise<ProviderStatusRow[]> {
    const in1h = new Date(now.getTime() + HOUR_MS);
    const in24h = new Date(now.getTime() + 24 * HOUR_MS);
    const rows = await this.db.$queryRaw<
      Array<{
        provider: ProviderKey;
        connected: number;
        token_expired: number;
        needs_reauth: number;
        error: number;
        disconnected: number;
        expired: number;
        expiring1h: number;
        expiring24h: number;
        withoutRefresh: number;
      }>
    >`
      SELECT provider::text AS provider,
        count(*) FILTER (WHERE status = 'connected')::int AS connected,
        count(*) FILTER (WHERE status = 'token_expired')::int AS token_expired,
        count(*) FILTER (WHERE status = 'needs_reauth')::int AS needs_reauth,
        count(*) FILTER (WHERE status = 'error')::int AS error,
        count(*) FILTER (WHERE status = 'disconnected')::int AS disconnected,
        count(*) FILTER (WHERE status IN ('connected', 'token_expired')
          AND "tokenExpiresAt" <= ${now})::int AS expired,
        count(*) FILTER (WHERE status IN ('connected', 'token_expired')
          AND "tokenExpiresAt" > ${now} AND "tokenExpiresAt" <= ${in1h})::int AS "expiring1h",
        count(*) FILTER (WHERE status IN ('connected', 'token_expired')
          AND "tokenExpiresAt" > ${now} AND "tokenExpiresAt" <= ${in24h})::int AS "expiring24h",
        count(*) FILTER (WHERE status = 'connected' AND "refreshTokenEnc" IS NULL)::int AS "withoutRefresh"
      FROM "Connection"
      GROUP BY provider
      ORDER BY provider`;
    return rows.map((r) => ({
      provider: r.provider,
      total: r.connected + r.token_expired + r.needs_reauth + r.error + r.disconnected,
      byStatus: {
        connected: r.connected,
        token_expired: r.token_expired,
        needs_reauth: r.needs_reauth,
        error: r.error,
        disconnected: r.disconnected,
      },
      expired: r.expired,
      expiringWithin1h: r.expiring1h,
      expiringWithin24h: r.expiring24h,
      connectedWithoutRefreshToken: r.withoutRefresh,
    }));
  }

  /** Safe fields only, newest first. */
  listConnections(filter: {
    status?: ConnectionStatus | undefined;
    provider?: ProviderKey | undefined;
    limit: number;
  }): Promise<SafeConnection[]> {
    return this.db.connection.findMany({
      select: SAFE_CONNECTION_FIELDS,
      where: {
        ...(filter.status && { status: filter.status }),
        ...(filter.provider && { provider: filter.provider }),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
      take: filter.limit,
    });
  }

  /**
   * Active connections that can no longer refresh: the refresh token passed its expiry, or there
   * is no way to refresh (no refresh token, or a provider without refresh) and the access token
   * expired. Keyset-paged by id.
   */
  listLapsed(args: {
    now: Date;
    nonRefreshingProviders: readonly ProviderKey[];
    after?: string | undefined;
    limit: number;
  }): Promise<LapsedCandidate[]> {
    return this.db.$queryRaw<LapsedCandidate[]>`
      SELECT id, provider::text AS provider, "ownerId", "tokenExpiresAt", "refreshTokenExpiresAt",
        "refreshTokenEnc" IS NOT NULL AS "hasRefreshToken"
      FROM "Connection"
      WHERE status IN ('connected', 'token_expired')
        AND id > ${args.after ?? NO_ID}::uuid
        AND ("refreshTokenExpiresAt" < ${args.now}
          OR (("refreshTokenEnc" IS NULL OR provider::text = ANY(${[...args.nonRefreshingProviders]}::text[]))
            AND "tokenExpiresAt" < ${args.now}))
      ORDER BY id
      LIMIT ${args.limit}`;
  }

  /**
   * `needs_reauth` connections with no needs_reauth notification pending or delivered since they
   * entered the state. Notifications are matched from a minute before `statusChangedAt`, which
   * is the app's clock while `createdAt` is the database's: the two may differ slightly.
   */
  listNeedingReauthNotice(args: { after?: string | undefined; limit: number }): Promise<ReauthCandidate[]> {
    return this.db.$queryRaw<ReauthCandidate[]>`
      SELECT c.id, c."ownerId", c."teamId", c.provider::text AS provider, c."statusChangedAt",
        c."statusReason", count(n.id) FILTER (WHERE n.status = 'dead')::int AS dead
      FROM "Connection" c
      LEFT JOIN "Notification" n ON n."connectionId" = c.id
        AND n.type = 'connection.needs_reauth'
        AND n."createdAt" >= c."statusChangedAt" - interval '1 minute'
      WHERE c.status = 'needs_reauth' AND c.id > ${args.after ?? NO_ID}::uuid
      GROUP BY c.id
      HAVING count(n.id) FILTER (WHERE n.status IN ('pending', 'delivered')) = 0
      ORDER BY c.id
      LIMIT ${args.limit}`;
  }

  /** Queues one notification unless its dedupeKey exists already; true if it was added. */
  async queueNotification(row: {
    type: string;
    connectionId: string;
    provider: ProviderKey;
    payload: Record<string, unknown>;
    dedupeKey: string;
  }): Promise<boolean> {
    const { count } = await this.db.notification.createMany({
      data: [{ ...row, payload: row.payload as Prisma.InputJsonValue }],
      skipDuplicates: true,
    });
    return count === 1;
  }

  /** A webhook delivery by Conduit's id or by the sender's delivery id (several providers may share one). */
  findWebhookDeliveries(ref: string): Promise<WebhookDelivery[]> {
    const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(ref);
    return this.db.webhookDelivery.findMany({
      where: isUuid ? { OR: [{ id: ref }, { deliveryId: ref }] } : { deliveryId: ref },
      orderBy: { receivedAt: 'asc' },
      take: 10,
    });
  }

  /** Back to `received`, so the transcript job processes it again as if it had just arrived. */
  async resetWebhookDelivery(id: string): Promise<void> {
    await this.db.webhookDelivery.update({
      where: { id },
      data: { status: 'received', processedAt: null, error: null },
    });
  }

  /** Connections holding a ciphertext under a key other than `activeKeyId`. */
  async countConnectionsNotUnder(activeKeyId: string): Promise<number> {
    const [row] = await this.db.$queryRaw<[{ n: number }]>`
      SELECT count(*)::int AS n FROM "Connection" WHERE ${notUnderKey(activeKeyId)}`;
    return row.n;
  }

  /** The next batch of them, in id order after `after`. */
  listConnectionsNotUnder(args: {
    activeKeyId: string;
    after?: string | undefined;
    limit: number;
  }): Promise<ConnectionCiphertexts[]> {
    return this.db.$queryRaw<ConnectionCiphertexts[]>`
      SELECT id, version, "accessTokenEnc", "refreshTokenEnc"
      FROM "Connection"
      WHERE id > ${args.after ?? NO_ID}::uuid AND ${notUnderKey(args.activeKeyId)}
      ORDER BY id
      LIMIT ${args.limit}`;
  }

  /**
   * Writes re-encrypted ciphertexts in one statement, each row guarded by a compare-and-set on
   * `version`. The version is deliberately not incremented: the tokens inside are unchanged, and
   * bumping it would make a refresh in flight lose its own compare-and-set and drop a rotated
   * refresh token. If that refresh writes first, this row's write is skipped instead (and the
   * refresh's own write, if under an old key, is picked up by the next run). Returns the ids written.
   */
  async writeConnectionCiphertexts(
    rows: ReadonlyArray<{ id: string; version: number; accessTokenEnc?: string; refreshTokenEnc?: string }>,
  ): Promise<Set<string>> {
    if (rows.length === 0) return new Set();
    const values = Prisma.join(
      rows.map(
        (r) =>
          Prisma.sql`(${r.id}::uuid, ${r.version}::int, ${r.accessTokenEnc ?? null}::text, ${r.refreshTokenEnc ?? null}::text)`,
      ),
    );
    const written = await this.db.$queryRaw<Array<{ id: string }>>`
      UPDATE "Connection" AS c
      SET "accessTokenEnc" = COALESCE(v.access, c."accessTokenEnc"),
          "refreshTokenEnc" = COALESCE(v.refresh, c."refreshTokenEnc")
      FROM (VALUES ${values}) AS v(id, version, access, refresh)
      WHERE c.id = v.id AND c.version = v.version
      RETURNING c.id`;
    return new Set(written.map((w) => w.id));
  }

  async countOAuthStatesNotUnder(activeKeyId: string): Promise<number> {
    const [row] = await this.db.$queryRaw<[{ n: number }]>`
      SELECT count(*)::int AS n FROM "OAuthState"
      WHERE "codeVerifierEnc" IS NOT NULL AND split_part("codeVerifierEnc", '.', 2) <> ${activeKeyId}`;
    return row.n;
  }

  listOAuthStatesNotUnder(args: {
    activeKeyId: string;
    after?: string | undefined;
    limit: number;
  }): Promise<OAuthStateCiphertext[]> {
    return this.db.$queryRaw<OAuthStateCiphertext[]>`
      SELECT id, "codeVerifierEnc" FROM "OAuthState"
      WHERE id > ${args.after ?? NO_ID}::uuid
        AND "codeVerifierEnc" IS NOT NULL AND split_part("codeVerifierEnc", '.', 2) <> ${args.activeKeyId}
      ORDER BY id
      LIMIT ${args.limit}`;
  }

  /** OAuthState has no version: the compare-and-set is on the old ciphertext itself. */
  async writeOAuthStateCiphertexts(
    rows: ReadonlyArray<{ id: string; previous: string; codeVerifierEnc: string }>,
  ): Promise<Set<string>> {
    if (rows.length === 0) return new Set();
    const values = Prisma.join(
      rows.map((r) => Prisma.sql`(${r.id}::uuid, ${r.previous}::text, ${r.codeVerifierEnc}::text)`),
    );
    const written = await this.db.$queryRaw<Array<{ id: string }>>`
      UPDATE "OAuthState" AS s
      SET "codeVerifierEnc" = v.fresh
      FROM (VALUES ${values}) AS v(id, previous, fresh)
      WHERE s.id = v.id AND s."codeVerifierEnc" = v.previous
      RETURNING s.id`;
    return new Set(written.map((w) => w.id));
  }
}

/** The key id is the second dot-separated part of a vault ciphertext (`v1.<keyId>.…`). */
function notUnderKey(activeKeyId: string): Prisma.Sql {
  return Prisma.sql`(("accessTokenEnc" IS NOT NULL AND split_part("accessTokenEnc", '.', 2) <> ${activeKeyId})
    OR ("refreshTokenEnc" IS NOT NULL AND split_part("refreshTokenEnc", '.', 2) <> ${activeKeyId}))`;
}
