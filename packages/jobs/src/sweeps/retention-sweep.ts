// The retention sweep: a disconnected connection's synced data is kept for the retention period
// (CONDUIT_DISCONNECTED_RETENTION_DAYS), in case the user comes back, then purged. Zero days
// keeps it until purged by hand. Each connection is purged in its own transaction.
import { listDueForPurge, purgeConnectionData, type Db } from '@conduit/db';
import type { Logger } from 'pino';

export interface RetentionSweepOptions {
  retentionDays: number;
  batchSize: number;
  now?: Date;
}

export interface RetentionSweepReport {
  purged: number;
  meetings: number;
  transcripts: number;
  webhookDeliveries: number;
  skipped?: string;
}

export async function runRetentionSweep(
  deps: { db: Db; logger: Logger },
  opts: RetentionSweepOptions,
): Promise<RetentionSweepReport> {
  const report: RetentionSweepReport = { purged: 0, meetings: 0, transcripts: 0, webhookDeliveries: 0 };
  if (opts.retentionDays === 0) return { ...report, skipped: 'CONDUIT_DISCONNECTED_RETENTION_DAYS is 0' };
  const now = opts.now ?? new Date();
  const disconnectedBefore = new Date(now.getTime() - opts.retentionDays * 86_400_000);
  for (;;) {
    const due = await listDueForPurge(deps.db, { disconnectedBefore, limit: opts.batchSize });
    for (const conn of due) {
      const result = await purgeConnectionData(deps.db, conn.id, now);
      if (result.kind !== 'purged') continue;
      report.purged += 1;
      report.meetings += result.counts.meetings;
      report.transcripts += result.counts.transcripts;
      report.webhookDeliveries += result.counts.webhookDeliveries;
      deps.logger.info(
        {
          connectionId: conn.id,
          provider: conn.provider,
          ...result.counts,
          retentionDays: opts.retentionDays,
        },
        'retention: the disconnected connection is past its retention period; its synced data is purged',
      );
    }
    // A row that stopped being disconnected meanwhile is skipped and not listed again.
    if (due.length < opts.batchSize) return report;
  }
}
