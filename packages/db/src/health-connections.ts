// The health page's per-connection table and sync log: the seeds' diagnostic SQL (token valid /
// expiring / expired, hours until expiry, refresh token present, last refresh, last sync) and
// their `cron_job_logs` (SyncRun), filtered and paginated in SQL so a million rows cost one page.
// Owner ids leave this file only as the caller's keyed hash; a search may name a raw owner id
// (the operator already knows it) but the page never shows one.
import type { ConnectionStatus, ProviderKey } from '@conduit/core';
import { Prisma, type PrismaClient } from './generated/client.ts';

/** valid: lapses in more than 1 h; expiring: within 1 h; expired: lapsed; none: no expiry stored */
export type TokenState = 'valid' | 'expiring' | 'expired' | 'none';
export const TOKEN_STATES: readonly TokenState[] = ['valid', 'expiring', 'expired', 'none'];

export interface ConnectionFilter {
  /** a connection id (or its start), an exact owner id, or words of the status reason */
  search?: string;
  provider?: ProviderKey;
  status?: ConnectionStatus;
  token?: TokenState;
  /** 1-based */
  page: number;
  pageSize: number;
}

export interface SyncRunView {
  id: string;
  connectionId: string;
  provider: ProviderKey;
  resource: string;
  mode: string;
  startedAt: Date;
  finishedAt: Date | null;
  pages: number;
  itemsSeen: number;
  itemsStored: number;
  outcome: string;
  error: string | null;
}

export interface HealthConnectionRow {
  connectionId: string;
  /** keyed hash of the owner id */
  owner: string;
  provider: ProviderKey;
  status: ConnectionStatus;
  statusReason: string | null;
  token: TokenState;
  tokenExpiresAt: Date | null;
  /** negative once lapsed; null without an expiry */
  hoursUntilExpiry: number | null;
  hasRefreshToken: boolean;
  lastRefreshAt: Date | null;
  lastRefreshError: string | null;
  lastSync: { at: Date; outcome: string; error: string | null; itemsStored: number } | null;
}

export interface ConnectionPage {
  rows: HealthConnectionRow[];
  total: number;
  page: number;
  pageSize: number;
}

const HOUR_MS = 3_600_000;
const MAX_TEXT = 300;
const UUID_PREFIX = /^[0-9a-f-]{4,36}$/i;

function clip(text: string | null): string | null {
  return text === null || text.length <= MAX_TEXT ? text : `${text.slice(0, MAX_TEXT - 1)}…`;
}

function tokenState(expiresAt: Date | null, now: Date): TokenState {
  if (expiresAt === null) return 'none';
  const left = expiresAt.getTime() - now.getTime();
  return left <= 0 ? 'expired' : left <= HOUR_MS ? 'expiring' : 'valid';
}

function where(f: ConnectionFilter, now: Date): Prisma.Sql {
  const parts: Prisma.Sql[] = [];
  if (f.provider) parts.push(Prisma.sql`c."provider"::text = ${f.provider}`);
  if (f.status) parts.push(Prisma.sql`c."status"::text = ${f.status}`);
  const in1h = new Date(now.getTime() + HOUR_MS);
  if (f.token === 'none') parts.push(Prisma.sql`c."tokenExpiresAt" IS NULL`);
  if (f.token === 'expired') parts.push(Prisma.sql`c."tokenExpiresAt" <= ${now}`);
  if (f.token === 'expiring')
    parts.push(Prisma.sql`c."tokenExpiresAt" > ${now} AND c."tokenExpiresAt" <= ${in1h}`);
  if (f.token === 'valid') parts.push(Prisma.sql`c."tokenExpiresAt" > ${in1h}`);
  const q = f.search?.trim();
  if (q) {
    const like = `%${q.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
    const alternatives = [Prisma.sql`c."ownerId" = ${q}`, Prisma.sql`c."statusReason" ILIKE ${like}`];
    if (UUID_PREFIX.test(q)) alternatives.push(Prisma.sql`c."id"::text LIKE ${`${q.toLowerCase()}%`}`);
    parts.push(Prisma.sql`(${Prisma.join(alternatives, ' OR ')})`);
  }
  return parts.length === 0 ? Prisma.sql`TRUE` : Prisma.join(parts, ' AND ');
}

interface RawRow {
  id: string;
  ownerId: string;
  provider: ProviderKey;
  status: ConnectionStatus;
  statusReason: string | null;
  tokenExpiresAt: Date | null;
  hasRefreshToken: boolean;
  lastRefreshAt: Date | null;
  lastRefreshError: string | null;
  lastSyncAt: Date | null;
  lastSyncError: string | null;
  syncStartedAt: Date | null;
  syncOutcome: string | null;
  syncError: string | null;
  syncStored: number | null;
}

export class HealthConnections {
  constructor(
    private readonly db: PrismaClient,
    private readonly hashOwner: (ownerId: string) => string,
  ) {}

  /** One page of connections, most recently changed first, each with its latest sync run. */
  async page(f: ConnectionFilter, now: Date): Promise<ConnectionPage> {
    const cond = where(f, now);
    const offset = (f.page - 1) * f.pageSize;
    const [rows, counted] = await Promise.all([
      this.db.$queryRaw<RawRow[]>`
        SELECT c."id"::text AS id, c."ownerId", c."provider"::text AS provider, c."status"::text AS status,
               c."statusReason", c."tokenExpiresAt", (c."refreshTokenEnc" IS NOT NULL) AS "hasRefreshToken",
               c."lastRefreshAt", c."lastRefreshError", c."lastSyncAt", c."lastSyncError",
               s."startedAt" AS "syncStartedAt", s."outcome"::text AS "syncOutcome", s."error" AS "syncError",
               s."itemsStored" AS "syncStored"
        FROM "Connection" c
        LEFT JOIN LATERAL (
          SELECT r."startedAt", r."outcome", r."error", r."itemsStored" FROM "SyncRun" r
          WHERE r."connectionId" = c."id" ORDER BY r."startedAt" DESC LIMIT 1
        ) s ON TRUE
        WHERE ${cond}
        ORDER BY c."statusChangedAt" DESC, c."id"
        LIMIT ${f.pageSize} OFFSET ${offset}`,
      this.db.$queryRaw<Array<{ n: number }>>`SELECT count(*)::int AS n FROM "Connection" c WHERE ${cond}`,
    ]);
    return {
      rows: rows.map((r) => ({
        connectionId: r.id,
        owner: this.hashOwner(r.ownerId),
        provider: r.provider,
        status: r.status,
        statusReason: clip(r.statusReason),
        token: tokenState(r.tokenExpiresAt, now),
        tokenExpiresAt: r.tokenExpiresAt,
        hoursUntilExpiry:
          r.tokenExpiresAt === null
            ? null
            : Math.round(((r.tokenExpiresAt.getTime() - now.getTime()) / HOUR_MS) * 10) / 10,
        hasRefreshToken: r.hasRefreshToken,
        lastRefreshAt: r.lastRefreshAt,
        lastRefreshError: clip(r.lastRefreshError),
        lastSync:
          r.syncStartedAt !== null
            ? {
                at: r.syncStartedAt,
                outcome: r.syncOutcome ?? 'running',
                error: clip(r.syncError),
                itemsStored: r.syncStored ?? 0,
              }
            : r.lastSyncAt !== null
              ? {
                  at: r.lastSyncAt,
                  outcome: r.lastSyncError ? 'failed' : 'succeeded',
                  error: clip(r.lastSyncError),
                  itemsStored: 0,
                }
              : null,
      })),
      total: counted[0]?.n ?? 0,
      page: f.page,
      pageSize: f.pageSize,
    };
  }

  /** The last `limit` sync runs, newest first (SyncRun(outcome, startedAt) cannot help; a sort of the recent ones). */
  async recentSyncRuns(limit: number, connectionId?: string): Promise<SyncRunView[]> {
    const rows = await this.db.syncRun.findMany({
      where: connectionId ? { connectionId } : {},
      orderBy: [{ startedAt: 'desc' }, { id: 'asc' }],
      take: limit,
      include: { connection: { select: { provider: true } } },
    });
    return rows.map((r) => ({
      id: r.id,
      connectionId: r.connectionId,
      provider: r.connection.provider,
      resource: r.resource,
      mode: r.mode,
      startedAt: r.startedAt,
      finishedAt: r.finishedAt,
      pages: r.pages,
      itemsSeen: r.itemsSeen,
      itemsStored: r.itemsStored,
      outcome: r.outcome,
      error: clip(r.error),
    }));
  }
}
