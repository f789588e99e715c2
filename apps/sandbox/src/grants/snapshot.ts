// The sandbox's grants on disk, so that restarting `npm start` is a non-event: the tokens Conduit
// holds from the last run still refresh, instead of meeting a fresh, empty sandbox and sending
// every user to needs_reauth. Only what a client can present is kept: accounts, and each grant
// with its current access and refresh token. Rotated-out tokens, meetings, faults and the anomaly
// report start afresh. Written atomically (temp file + rename) shortly after each change and on close.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ProviderKey } from '@conduit/core';
import type { Account } from './accounts.ts';
import { Grant, type RevokeReason } from './store.ts';
import type { SandboxState } from '../state.ts';

const VERSION = 1;

interface SavedGrant {
  id: string;
  provider: ProviderKey;
  accountKey: string;
  clientId: string;
  scope: string[];
  consentedAt: number;
  accessTtlSeconds: number | null;
  accessToken: string;
  accessIssuedAt: number;
  /** null: never expires (JSON has no Infinity) */
  accessExpiresAt: number | null;
  refreshToken: string | null;
  refreshExpiresAt: number | null;
  lastRefreshAt: number | null;
  refreshes: number;
  rotations: number;
  revokedAt: number | null;
  revokedReason: RevokeReason | null;
}

interface Snapshot {
  version: number;
  savedAt: number;
  accounts: Account[];
  accountSeq: number;
  grantSeq: number;
  grants: SavedGrant[];
}

const keyOf = (a: Account) => `${a.namespace}|${a.email.toLowerCase()}`;
const finite = (n: number) => (Number.isFinite(n) ? n : null);
const orInfinity = (n: number | null) => (n === null ? Infinity : n);

export function snapshotOf(sb: SandboxState): Snapshot {
  const { accounts, seq } = sb.accounts.entries();
  return {
    version: VERSION,
    savedAt: Date.now(),
    accounts,
    accountSeq: seq,
    grantSeq: sb.grants.created,
    grants: [...sb.grants.byId.values()].map((g) => ({
      id: g.id,
      provider: g.provider,
      accountKey: keyOf(g.account),
      clientId: g.clientId,
      scope: [...g.scope],
      consentedAt: g.consentedAt,
      accessTtlSeconds: g.accessTtlSeconds,
      accessToken: g.accessToken,
      accessIssuedAt: g.access.issuedAt,
      accessExpiresAt: finite(g.access.expiresAt),
      refreshToken: g.refreshToken,
      refreshExpiresAt: finite(g.refreshExpiresAt),
      lastRefreshAt: g.lastRefreshAt,
      refreshes: g.refreshes,
      rotations: g.rotations,
      revokedAt: g.revokedAt,
      revokedReason: g.revokedReason,
    })),
  };
}

export function restoreSnapshot(sb: SandboxState, snapshot: Snapshot): number {
  if (snapshot.version !== VERSION) return 0;
  sb.accounts.adopt(snapshot.accounts, snapshot.accountSeq);
  const accounts = new Map(snapshot.accounts.map((a) => [keyOf(a), a]));
  let restored = 0;
  for (const s of snapshot.grants) {
    const account = accounts.get(s.accountKey);
    if (!account) continue;
    const grant = new Grant(
      s.id,
      s.provider,
      account,
      s.clientId,
      s.scope,
      s.consentedAt,
      s.accessTtlSeconds,
    );
    grant.accessToken = s.accessToken;
    grant.refreshToken = s.refreshToken;
    grant.refreshExpiresAt = orInfinity(s.refreshExpiresAt);
    grant.lastRefreshAt = s.lastRefreshAt;
    grant.refreshes = s.refreshes;
    grant.rotations = s.rotations;
    grant.revokedAt = s.revokedAt;
    grant.revokedReason = s.revokedReason;
    sb.grants.adopt(
      grant,
      { issuedAt: s.accessIssuedAt, expiresAt: orInfinity(s.accessExpiresAt) },
      snapshot.grantSeq,
    );
    restored += 1;
  }
  return restored;
}

export interface GrantFile {
  /** grants taken back from the file at start */
  readonly restored: number;
  /** writes what changed now; for close */
  flush(): void;
  stop(): void;
}

/** Restores the grants from `file` (when it exists) and keeps it up to date every `everyMs`. */
export function persistGrants(sb: SandboxState, file: string, everyMs = 250): GrantFile {
  let restored = 0;
  try {
    restored = restoreSnapshot(sb, JSON.parse(readFileSync(file, 'utf8')) as Snapshot);
  } catch (error) {
    // No file yet is the first start; a file we cannot read is started over, not fatal.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') restored = 0;
  }
  let saved = sb.grants.changes;
  const flush = () => {
    if (sb.grants.changes === saved) return;
    saved = sb.grants.changes;
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(snapshotOf(sb)));
    renameSync(tmp, file);
  };
  if (restored === 0) saved = -1; // write the file once, so its presence says persistence is on
  const timer = setInterval(flush, everyMs);
  timer.unref();
  return {
    restored,
    flush,
    stop() {
      clearInterval(timer);
      flush();
    },
  };
}
