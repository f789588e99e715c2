// After the faults stop: how long until every connection is where it belongs (non-revoked
// `connected` with an access token that has not lapsed, revoked `needs_reauth`) and every
// accepted webhook is processed. Polled once a second, bounded by the timeout (or sooner, once
// only terminal states are left).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from '@conduit/db';
import type { SeededConnection } from './seed.ts';

export interface StatusPicture {
  /** non-revoked connections not `connected`, by status */
  nonRevokedNotConnected: Record<string, number>;
  /** non-revoked `connected` connections whose access token has lapsed: nobody refreshed it in time */
  expiredAccessTokens: number;
  /** revoked connections not `needs_reauth`, by status */
  revokedNotNeedsReauth: Record<string, number>;
  acceptedWebhooks: number;
  /** accepted deliveries by their inbox status ('missing': no row at all) */
  webhooksByStatus: Record<string, number>;
  /**
   * accepted deliveries not yet processed whose connection is `needs_reauth`: nothing can fetch
   * their transcripts until the user reconnects (then the first sync does)
   */
  webhooksWaitingOnReauth: number;
}

export interface Convergence {
  converged: boolean;
  seconds: number;
  last: StatusPicture;
  /** why the wait ended without convergence: time ran out, or only permanent states were left */
  stopped?: 'timeout' | 'only-permanent-states-left';
  /** with `only-permanent-states-left`: seconds until everything else had settled */
  permanentOnlyFromSeconds?: number;
}

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

export async function statusPicture(
  db: Db,
  seeded: readonly SeededConnection[],
  acceptedIds: readonly string[],
): Promise<StatusPicture> {
  const rows = await db.connection.findMany({ select: { id: true, status: true, tokenExpiresAt: true } });
  const status = new Map(rows.map((r) => [r.id, r.status as string]));
  const now = Date.now();
  const lapsed = new Set(
    rows.filter((r) => r.tokenExpiresAt !== null && r.tokenExpiresAt.getTime() < now).map((r) => r.id),
  );
  const picture: StatusPicture = {
    nonRevokedNotConnected: {},
    expiredAccessTokens: 0,
    revokedNotNeedsReauth: {},
    acceptedWebhooks: acceptedIds.length,
    webhooksByStatus: {},
    webhooksWaitingOnReauth: 0,
  };
  for (const c of seeded) {
    const s = status.get(c.connectionId) ?? 'missing';
    if (!c.revoked && s !== 'connected')
      picture.nonRevokedNotConnected[s] = (picture.nonRevokedNotConnected[s] ?? 0) + 1;
    if (!c.revoked && s === 'connected' && lapsed.has(c.connectionId)) picture.expiredAccessTokens += 1;
    if (c.revoked && s !== 'needs_reauth')
      picture.revokedNotNeedsReauth[s] = (picture.revokedNotNeedsReauth[s] ?? 0) + 1;
  }
  const deliveries = await db.webhookDelivery.findMany({
    where: { provider: 'fathom', deliveryId: { in: [...acceptedIds] } },
    select: { status: true, connectionId: true },
  });
  for (const d of deliveries) {
    picture.webhooksByStatus[d.status] = (picture.webhooksByStatus[d.status] ?? 0) + 1;
    if (d.status === 'received' && d.connectionId !== null && status.get(d.connectionId) === 'needs_reauth')
      picture.webhooksWaitingOnReauth += 1;
  }
  const missing = acceptedIds.length - deliveries.length;
  if (missing > 0) picture.webhooksByStatus.missing = missing;
  return picture;
}

export function settled(p: StatusPicture): boolean {
  return (
    total(p.nonRevokedNotConnected) === 0 &&
    p.expiredAccessTokens === 0 &&
    total(p.revokedNotNeedsReauth) === 0 &&
    (p.webhooksByStatus.processed ?? 0) === p.acceptedWebhooks
  );
}

/**
 * Nothing left but states Conduit never leaves by itself: a non-revoked connection in
 * `needs_reauth` (only the user reconnecting ends it), deliveries marked `failed`, and
 * deliveries waiting on a connection that needs reauth.
 */
export function onlyTerminalLeft(p: StatusPicture): boolean {
  const notConnected = Object.entries(p.nonRevokedNotConnected).filter(([s]) => s !== 'needs_reauth');
  const webhooksOpen =
    p.acceptedWebhooks -
    (p.webhooksByStatus.processed ?? 0) -
    (p.webhooksByStatus.failed ?? 0) -
    p.webhooksWaitingOnReauth;
  return (
    !settled(p) &&
    notConnected.length === 0 &&
    p.expiredAccessTokens === 0 &&
    total(p.revokedNotNeedsReauth) === 0 &&
    webhooksOpen === 0
  );
}

export async function waitForConvergence(
  db: Db,
  seeded: readonly SeededConnection[],
  acceptedIds: readonly string[],
  timeoutSeconds: number,
  onProgress: (p: StatusPicture, seconds: number) => void,
): Promise<Convergence> {
  const started = Date.now();
  let last = await statusPicture(db, seeded, acceptedIds);
  let lastReport = 0;
  let terminalSince: number | null = null;
  for (let i = 0; i < timeoutSeconds * 10 && Date.now() - started < timeoutSeconds * 1000; i++) {
    if (settled(last)) return { converged: true, seconds: (Date.now() - started) / 1000, last };
    // Stable for 20 s with only terminal states left: waiting longer cannot help.
    terminalSince = onlyTerminalLeft(last) ? (terminalSince ?? Date.now()) : null;
    if (terminalSince !== null && Date.now() - terminalSince >= 20_000) break;
    if (Date.now() - lastReport >= 10_000) {
      onProgress(last, (Date.now() - started) / 1000);
      lastReport = Date.now();
    }
    await sleep(1_000);
    last = await statusPicture(db, seeded, acceptedIds);
  }
  const converged = settled(last);
  return {
    converged,
    seconds: (Date.now() - started) / 1000,
    last,
    ...(!converged &&
      (terminalSince === null
        ? { stopped: 'timeout' as const }
        : {
            stopped: 'only-permanent-states-left' as const,
            permanentOnlyFromSeconds: (terminalSince - started) / 1000,
          })),
  };
}
