// What happens to a disconnected user's data (docs/retention.md): kept for the retention period
// (CONDUIT_DISCONNECTED_RETENTION_DAYS), then purged by the retention sweep, or purged at once on
// request. A purge deletes what was synced from the provider — meetings with their transcripts,
// webhook deliveries, the provider webhook row, sync cursors — and the account's email; the
// connection row (without tokens) and its status events stay, as the audit of what happened.
import type { PrismaClient } from './generated/client.ts';

export interface PurgeCounts {
  meetings: number;
  transcripts: number;
  webhookDeliveries: number;
  webhooks: number;
}

export type PurgeResult =
  | { kind: 'purged'; counts: PurgeCounts; purgedAt: Date }
  | { kind: 'not_found' }
  /** only a disconnected connection is purged: its data is still in use otherwise */
  | { kind: 'not_disconnected'; status: string };

/** Deletes the connection's synced data in one transaction, if it is (still) disconnected. */
export async function purgeConnectionData(db: PrismaClient, id: string, now: Date): Promise<PurgeResult> {
  return db.$transaction(async (tx) => {
    // The row lock keeps a reconnect from landing between the check and the deletes.
    const rows = await tx.$queryRaw<Array<{ status: string }>>`
      SELECT status::text AS status FROM "Connection" WHERE id = ${id}::uuid FOR UPDATE`;
    const row = rows[0];
    if (!row) return { kind: 'not_found' };
    if (row.status !== 'disconnected') return { kind: 'not_disconnected', status: row.status };
    const transcripts = await tx.transcript.deleteMany({ where: { meeting: { connectionId: id } } });
    const meetings = await tx.meeting.deleteMany({ where: { connectionId: id } });
    const webhookDeliveries = await tx.webhookDelivery.deleteMany({ where: { connectionId: id } });
    const webhooks = await tx.connectionWebhook.deleteMany({ where: { connectionId: id } });
    await tx.syncState.deleteMany({ where: { connectionId: id } });
    await tx.connection.update({ where: { id }, data: { purgedAt: now, externalEmail: null } });
    return {
      kind: 'purged',
      purgedAt: now,
      counts: {
        meetings: meetings.count,
        transcripts: transcripts.count,
        webhookDeliveries: webhookDeliveries.count,
        webhooks: webhooks.count,
      },
    };
  });
}

/** Disconnected before `disconnectedBefore` and not purged since: the retention sweep's work. */
export async function listDueForPurge(
  db: PrismaClient,
  args: { disconnectedBefore: Date; limit: number },
): Promise<Array<{ id: string; provider: string }>> {
  return db.connection.findMany({
    where: { status: 'disconnected', statusChangedAt: { lt: args.disconnectedBefore }, purgedAt: null },
    orderBy: [{ statusChangedAt: 'asc' }, { id: 'asc' }],
    take: args.limit,
    select: { id: true, provider: true },
  });
}
