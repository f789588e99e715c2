// The refresh hot path's statements, for a whole batch of connections at once: take their leases
// (and re-read the rows) in one statement, renew or end them in one, and store every refreshed
// row of a flush in one compare-and-set. Plain `pg` on the pool Prisma runs on (poolOf), each a
// named prepared statement with one fixed text, so Postgres plans it once per session and the
// per-row cost is a share of one round trip (docs/benchmarks.md, "Refresh cost").
//
// Rows another session has locked are skipped (`FOR UPDATE SKIP LOCKED`), never waited for: one
// locked row delays only itself, and its caller sees it as busy (lease) or not stored (commit),
// and deals with it alone. Times are Postgres's clock; Prisma keeps DateTime as UTC `timestamp(3)`.
import pg from 'pg';
import type { PrismaClient } from './generated/client.ts';
import { poolOf } from './client.ts';
import type { ConnectionRow, RefreshedTokens } from './connections.ts';

const NOW_UTC = `(clock_timestamp() AT TIME ZONE 'UTC')`;
const TIMESTAMP_OID = 1114;

/** Rows as Prisma returns them: `timestamp` (UTC by convention) as Date, everything else as pg parses it. */
const TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === TIMESTAMP_OID && format !== 'binary') {
      return (value: string) => new Date(`${value.replace(' ', 'T')}Z`);
    }
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

const TAKE = {
  name: 'conduit_refresh_take_leases',
  text: `
    WITH prev AS (
      SELECT id, "leaseOwner" FROM "Connection" WHERE id = ANY($1::uuid[]) FOR UPDATE SKIP LOCKED
    )
    UPDATE "Connection" c
    SET "leaseOwner" = $2, "leaseUntil" = ${NOW_UTC} + $3::int * interval '1 millisecond'
    FROM prev
    WHERE c.id = prev.id
      AND (c."leaseOwner" IS NULL OR c."leaseUntil" IS NULL OR c."leaseUntil" <= ${NOW_UTC})
    RETURNING c.*, prev."leaseOwner" AS "previousOwner"`,
};

const EXISTING = {
  name: 'conduit_refresh_existing',
  text: `SELECT id FROM "Connection" WHERE id = ANY($1::uuid[])`,
};

const RENEW = {
  name: 'conduit_refresh_renew_leases',
  text: `
    UPDATE "Connection" c
    SET "leaseUntil" = ${NOW_UTC} + $3::int * interval '1 millisecond'
    FROM (
      SELECT id FROM "Connection" WHERE id = ANY($1::uuid[]) AND "leaseOwner" = $2 FOR UPDATE SKIP LOCKED
    ) mine
    WHERE c.id = mine.id
    RETURNING c.id`,
};

const RELEASE = {
  name: 'conduit_refresh_release_leases',
  text: `
    UPDATE "Connection" c
    SET "leaseOwner" = NULL, "leaseUntil" = NULL
    FROM (
      SELECT id FROM "Connection" WHERE id = ANY($1::uuid[]) AND "leaseOwner" = $2 FOR UPDATE SKIP LOCKED
    ) mine
    WHERE c.id = mine.id
    RETURNING c.id`,
};

/**
 * The compare-and-set of refreshed tokens for many rows: each row is written only if its version
 * is still the one read, and its lease is cleared in the same write when its owner still holds
 * it. "Keep the stored value" is a flag or a null per column, so there is one text for every mix.
 * Scopes travel space-joined (RFC 6749 scope tokens never contain a space).
 */
const STORE = {
  name: 'conduit_refresh_store_tokens',
  text: `
    WITH v AS (
      SELECT * FROM unnest(
        $1::uuid[], $2::int[], $3::text[], $4::timestamptz[], $5::bool[], $6::int[], $7::text[],
        $8::bool[], $9::timestamptz[], $10::text[], $11::timestamptz[], $12::text[]
      ) AS v(id, version, access, expires, set_lifetime, lifetime, refresh, set_rt_expires, rt_expires, scopes, at, owner)
    ),
    free AS (
      SELECT c.id FROM "Connection" c JOIN v ON c.id = v.id AND c.version = v.version
      FOR UPDATE OF c SKIP LOCKED
    )
    UPDATE "Connection" c SET
      "accessTokenEnc" = v.access,
      "tokenExpiresAt" = v.expires AT TIME ZONE 'UTC',
      "tokenLifetimeSeconds" = CASE WHEN v.set_lifetime THEN v.lifetime ELSE c."tokenLifetimeSeconds" END,
      "refreshTokenEnc" = COALESCE(v.refresh, c."refreshTokenEnc"),
      "refreshTokenExpiresAt" = CASE WHEN v.set_rt_expires THEN v.rt_expires AT TIME ZONE 'UTC' ELSE c."refreshTokenExpiresAt" END,
      "scopes" = CASE WHEN v.scopes IS NULL THEN c.scopes ELSE string_to_array(v.scopes, ' ') END,
      "lastRefreshAt" = v.at AT TIME ZONE 'UTC',
      "lastRefreshError" = NULL,
      "failureCount" = 0,
      "failingSince" = NULL,
      "refreshNotBefore" = NULL,
      "leaseOwner" = CASE WHEN c."leaseOwner" = v.owner THEN NULL ELSE c."leaseOwner" END,
      "leaseUntil" = CASE WHEN c."leaseOwner" = v.owner THEN NULL ELSE c."leaseUntil" END,
      "version" = c.version + 1,
      "updatedAt" = v.at AT TIME ZONE 'UTC'
    FROM v, free
    WHERE c.id = v.id AND c.id = free.id AND c.version = v.version
    RETURNING c.id`,
};

export interface LeasedRow {
  row: ConnectionRow;
  /** the last holder never cleared its lease (it died, stalled or failed to commit) */
  previousOwner: string | null;
}

export interface LeasesTaken {
  taken: LeasedRow[];
  /** held by another owner, or locked by another session right now */
  busy: string[];
  notFound: string[];
}

export interface StoreEntry {
  /** the row as read under the lease: its id and version are the compare-and-set */
  conn: Pick<ConnectionRow, 'id' | 'version'>;
  tokens: RefreshedTokens;
  at: Date;
  /** the lease this write ends */
  leaseOwner: string;
}

export class RefreshStore {
  private readonly pool: pg.Pool;

  constructor(db: PrismaClient) {
    this.pool = poolOf(db);
  }

  /** Takes every free or lapsed lease among `ids` for `owner`, returning the rows under it. */
  async takeLeases(ids: readonly string[], owner: string, ttlMs: number): Promise<LeasesTaken> {
    const { rows } = await this.pool.query<ConnectionRow & { previousOwner: string | null }>({
      ...TAKE,
      values: [ids, owner, Math.ceil(ttlMs)],
      types: TYPES,
    });
    const taken = rows.map(({ previousOwner, ...row }) => ({ row: row as ConnectionRow, previousOwner }));
    if (taken.length === ids.length) return { taken, busy: [], notFound: [] };
    const got = new Set(taken.map((t) => t.row.id));
    const missing = ids.filter((id) => !got.has(id));
    const existing = await this.pool.query<{ id: string }>({ ...EXISTING, values: [missing] });
    const exists = new Set(existing.rows.map((r) => r.id));
    return {
      taken,
      busy: missing.filter((id) => exists.has(id)),
      notFound: missing.filter((id) => !exists.has(id)),
    };
  }

  /** Pushes the leases `owner` still holds among `ids` out by a ttl; returns those renewed. */
  async renewLeases(ids: readonly string[], owner: string, ttlMs: number): Promise<Set<string>> {
    const { rows } = await this.pool.query<{ id: string }>({
      ...RENEW,
      values: [ids, owner, Math.ceil(ttlMs)],
    });
    return new Set(rows.map((r) => r.id));
  }

  /** Ends the leases `owner` still holds among `ids`; one locked meanwhile lapses by itself. */
  async releaseLeases(ids: readonly string[], owner: string): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const { rows } = await this.pool.query<{ id: string }>({ ...RELEASE, values: [ids, owner] });
    return new Set(rows.map((r) => r.id));
  }

  /**
   * Stores refreshed tokens for connections read as `connected`, all in one statement. Returns
   * the ids stored; any other row lost its compare-and-set or was locked by another session, and
   * its caller looks at it alone.
   */
  async storeRefreshed(entries: readonly StoreEntry[]): Promise<Set<string>> {
    if (entries.length === 0) return new Set();
    const iso = (d: Date | null | undefined) => (d == null ? null : d.toISOString());
    const { rows } = await this.pool.query<{ id: string }>({
      ...STORE,
      values: [
        entries.map((e) => e.conn.id),
        entries.map((e) => e.conn.version),
        entries.map((e) => e.tokens.accessTokenEnc),
        entries.map((e) => iso(e.tokens.tokenExpiresAt)),
        entries.map((e) => e.tokens.tokenLifetimeSeconds !== undefined),
        entries.map((e) => e.tokens.tokenLifetimeSeconds ?? null),
        entries.map((e) => e.tokens.refreshTokenEnc ?? null),
        entries.map((e) => e.tokens.refreshTokenExpiresAt !== undefined),
        entries.map((e) => iso(e.tokens.refreshTokenExpiresAt)),
        entries.map((e) => (e.tokens.scopes === undefined ? null : e.tokens.scopes.join(' '))),
        entries.map((e) => e.at.toISOString()),
        entries.map((e) => e.leaseOwner),
      ],
    });
    return new Set(rows.map((r) => r.id));
  }
}
