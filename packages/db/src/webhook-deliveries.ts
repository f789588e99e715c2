// The webhook inbox: every verified delivery is stored before it is acknowledged, keyed by the
// sender's delivery id, so a redelivery is recognised and never processed twice.
import type { ProviderKey } from '@conduit/core';
import type { PrismaClient, WebhookDelivery, WebhookStatus } from './generated/client.ts';

export interface NewDelivery {
  provider: ProviderKey;
  deliveryId: string;
  sentAt: Date;
  payload: unknown;
  connectionId: string | null;
  status: Extract<WebhookStatus, 'received' | 'unmatched'>;
}

export type RecordedDelivery =
  | { stored: true; delivery: Pick<WebhookDelivery, 'id' | 'status' | 'connectionId'> }
  /** the same delivery id was stored before: this is a redelivery */
  | { stored: false; delivery: Pick<WebhookDelivery, 'id' | 'status' | 'connectionId'> };

export class WebhookDeliveryRepository {
  constructor(private readonly db: PrismaClient) {}

  /**
   * Stores the delivery unless its id is known; either way returns the stored row. One statement
   * (insert, or read the existing row) on the webhook's hot path.
   *
   * Under READ COMMITTED the statement can come back empty: when a concurrent transaction inserted
   * the same id and commits while we wait on it, ON CONFLICT DO NOTHING yields no row and the
   * SELECT half still reads the snapshot taken before that commit. A fresh statement sees the
   * committed row, so the statement is simply run again (a rolled-back rival lets ours insert).
   */
  async record(input: NewDelivery, now: Date): Promise<RecordedDelivery> {
    for (let attempt = 1; ; attempt += 1) {
      const row = await this.recordOnce(input, now);
      if (row) {
        const { stored, ...delivery } = row;
        return { stored, delivery };
      }
      if (attempt >= 3) throw new Error(`webhook delivery ${input.deliveryId} was neither stored nor found`);
    }
  }

  private async recordOnce(
    input: NewDelivery,
    now: Date,
  ): Promise<(Pick<WebhookDelivery, 'id' | 'status' | 'connectionId'> & { stored: boolean }) | undefined> {
    const rows = await this.db.$queryRaw<
      Array<Pick<WebhookDelivery, 'id' | 'status' | 'connectionId'> & { stored: boolean }>
    >`
      WITH inserted AS (
        INSERT INTO "WebhookDelivery" (id, provider, "deliveryId", "sentAt", "receivedAt", payload, "connectionId", status)
        VALUES (gen_random_uuid(), ${input.provider}::"Provider", ${input.deliveryId}, ${input.sentAt}, ${now},
                ${JSON.stringify(input.payload)}::jsonb, ${input.connectionId}::uuid, ${input.status}::"WebhookStatus")
        ON CONFLICT (provider, "deliveryId") DO NOTHING
        RETURNING id, status, "connectionId", true AS stored
      )
      SELECT * FROM inserted
      UNION ALL
      SELECT id, status, "connectionId", false AS stored FROM "WebhookDelivery"
      WHERE provider = ${input.provider}::"Provider" AND "deliveryId" = ${input.deliveryId}
        AND NOT EXISTS (SELECT 1 FROM inserted)`;
    return rows[0];
  }

  /** The account a delivery belongs to, by the email the provider names (connected ones first). */
  async matchByEmail(provider: ProviderKey, email: string): Promise<{ id: string } | null> {
    const rows = await this.db.$queryRaw<Array<{ id: string; status: string }>>`
      SELECT id, status FROM "Connection"
      WHERE provider = ${provider}::"Provider" AND "externalEmail" = ${email.trim().toLowerCase()}
      ORDER BY "statusChangedAt" DESC`;
    const pick = rows.find((r) => r.status === 'connected' || r.status === 'token_expired') ?? rows[0];
    return pick ? { id: pick.id } : null;
  }

  /** The newest stored delivery for a recording of this connection (its payload is the Meeting). */
  latestForRecording(connectionId: string, recordingId: number): Promise<WebhookDelivery | null> {
    return this.db.webhookDelivery.findFirst({
      where: { connectionId, payload: { path: ['recording_id'], equals: recordingId } },
      orderBy: { receivedAt: 'desc' },
    });
  }

  /** Every delivery about this recording that was waiting is now done. */
  async markProcessed(connectionId: string, recordingId: number, now: Date): Promise<number> {
    const { count } = await this.db.webhookDelivery.updateMany({
      where: {
        connectionId,
        status: { in: ['received', 'failed'] },
        payload: { path: ['recording_id'], equals: recordingId },
      },
      data: { status: 'processed', processedAt: now, error: null, attempts: { increment: 1 } },
    });
    return count;
  }

  /**
   * Deliveries of this connection still waiting (`received`, or `failed` while the transcript was
   * not ready) whose recording has a stored transcript by now: processed. A transcript job that
   * died between storing the transcript and marking its delivery (a SIGKILL, a job BullMQ gave up
   * on) leaves such rows; the sync settles them, so no delivery waits forever on work already done.
   */
  async settleWhereTranscriptStored(connectionId: string, now: Date): Promise<number> {
    return this.db.$executeRaw`
      UPDATE "WebhookDelivery" d
      SET status = 'processed', "processedAt" = ${now}, error = NULL, attempts = d.attempts + 1
      WHERE d."connectionId" = ${connectionId}::uuid
        AND d.status IN ('received', 'failed')
        AND EXISTS (
          SELECT 1 FROM "Meeting" m JOIN "Transcript" t ON t."meetingId" = m.id
          WHERE m."connectionId" = d."connectionId"
            AND m."recordingId" = (d.payload->>'recording_id')::bigint
        )`;
  }

  async markFailed(connectionId: string, recordingId: number, error: string): Promise<number> {
    const { count } = await this.db.webhookDelivery.updateMany({
      where: { connectionId, status: 'received', payload: { path: ['recording_id'], equals: recordingId } },
      data: { status: 'failed', error, attempts: { increment: 1 } },
    });
    return count;
  }
}
