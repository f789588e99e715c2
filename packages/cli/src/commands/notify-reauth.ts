// `conduit notify-reauth`: a connection.needs_reauth notification for every needs_reauth
// connection that has none pending or delivered since it entered the state — e.g. those that
// lapsed before a notify URL was configured. Idempotent: the dedupe key names the stay in
// needs_reauth, so a second run adds nothing; only a notice that went dead is sent anew.
import { MaintenanceRepository, notificationPayload } from '@conduit/db';
import type { AppContext } from '@conduit/runtime';
import { EXIT } from '../errors.ts';
import type { Output } from '../output.ts';

const BATCH = 500;

/** One needs_reauth notice per stay in needs_reauth, plus one more each time the previous went dead. */
export function reauthNoticeKey(connectionId: string, statusChangedAt: Date, deadSoFar: number): string {
  return `needs_reauth:${connectionId}:${statusChangedAt.toISOString()}:${deadSoFar}`;
}

export interface NotifyReauthReport {
  queued: Array<{ id: string; provider: string; owner: string }>;
  /** candidates whose notice another run queued first */
  alreadyQueued: number;
}

export async function notifyReauth(ctx: Pick<AppContext, 'db' | 'hashOwner'>): Promise<NotifyReauthReport> {
  const repo = new MaintenanceRepository(ctx.db);
  const report: NotifyReauthReport = { queued: [], alreadyQueued: 0 };
  let after: string | undefined;
  for (;;) {
    const batch = await repo.listNeedingReauthNotice({ after, limit: BATCH });
    for (const c of batch) {
      const added = await repo.queueNotification({
        type: 'connection.needs_reauth',
        connectionId: c.id,
        provider: c.provider,
        payload: notificationPayload(c, { reason: c.statusReason }),
        dedupeKey: reauthNoticeKey(c.id, c.statusChangedAt, c.dead),
      });
      if (added) report.queued.push({ id: c.id, provider: c.provider, owner: ctx.hashOwner(c.ownerId) });
      else report.alreadyQueued++;
    }
    if (batch.length < BATCH) break;
    after = batch[batch.length - 1]!.id;
  }
  return report;
}

export async function notifyReauthCommand(
  ctx: Pick<AppContext, 'db' | 'hashOwner'>,
  out: Output,
): Promise<number> {
  const report = await notifyReauth(ctx);
  const n = report.queued.length;
  for (const q of report.queued) out.line(`${q.id}  ${q.provider}  owner ${q.owner}`);
  out.line(
    `Queued ${n} connection.needs_reauth notification${n === 1 ? '' : 's'}` +
      (report.alreadyQueued > 0 ? `; ${report.alreadyQueued} had just been queued by another run.` : '.'),
  );
  return EXIT.ok;
}
