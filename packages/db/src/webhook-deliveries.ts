// The webhook inbox: every verified delivery is stored before it is acknowledged, keyed by the
// sender's delivery id, so a redelivery is recognised and never processed twice.
import type { ProviderKey } from '@conduit/core';
import type { PrismaClient, WebhookDelivery } from './generated/client.ts';
import { jsonbSafeText } from './jsonb-text.ts';

export interface NewDelivery {
  provider: ProviderKey;
  deliveryId: string;
  sentAt: Date;
  /**
   * the exact bytes the sender signed, valid JSON: kept as they are (`body`), and as jsonb
   * (`payload`, re-serialised only where jsonb cannot hold a character: see jsonb-text.ts)
   */
  body: Buffer;
  /**
   * whose delivery it is: a known connection, or the account email the provider names (matched
   * in the same statement; connected ones first, then the most recently changed). No match, or
   * `null`: kept as `unmatched`.
   */
  account: { connectionId: string } | { email: string } | null;
}

type DeliveryRow = Pick<WebhookDelivery, 'id' | 'status' | 'connectionId'>;

export type RecordedDelivery =
  | { stored: true; delivery: DeliveryRow }
  /** the same delivery id was stored before: this is a redelivery */
  | { stored: false; delivery: DeliveryRow };

export class WebhookDeliveryRepository {
  constructor(private readonly db: PrismaClient) {}

  /**
   * Stores the delivery, matched to its account, unless its id is known; either way returns the
   * stored row. One round trip on the webhook's hot path: the SQL function
   * `conduit_record_webhook_delivery` (migration 20261202010000), whose statements keep their plans.
   *
   * The function reads the existing row in a statement of its own, so a rival's insert that
   * committed while ours waited on it is seen. Should a rival roll back instead, nothing comes
   * back, and the call is simply made again (our insert then goes through).
   */
  async record(input: NewDelivery, now: Date): Promise<RecordedDelivery> {
    const connectionId =
      input.account !== null && 'connectionId' in input.account ? input.account.connectionId : null;
    const email =
      input.account !== null && 'email' in input.account ? input.account.email.trim().toLowerCase() : null;
    const payloadJson = jsonbSafeText(input.body.toString('utf8'));
    for (let attempt = 1; ; attempt += 1) {
      const rows = await this.db.$queryRaw<Array<DeliveryRow & { stored: boolean }>>`
        SELECT * FROM conduit_record_webhook_delivery(
          ${input.provider}::text, ${input.deliveryId}, ${input.sentAt}, ${now},
          ${input.body}::bytea, ${payloadJson}::jsonb, ${connectionId}::uuid, ${email})`;
      const row = rows[0];
      if (row) {
        const { stored, ...delivery } = row;
        return { stored, delivery };
      }
      if (attempt >= 3) throw new Error(`webhook delivery ${input.deliveryId} was neither stored nor found`);
    }
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

  /**
   * Deliveries matched to a connection and still `received` since before `receivedBefore`, oldest
   * first: the ones whose transcript fetch may never have reached a queue (Redis was down when
   * they arrived). Served by the (status, receivedAt) index.
   */
  waitingSince(
    receivedBefore: Date,
    limit: number,
  ): Promise<Array<{ id: string; connectionId: string; recordingId: number }>> {
    return this.db.$queryRaw`
      SELECT d.id, d."connectionId", (d.payload->>'recording_id')::float8 AS "recordingId"
      FROM "WebhookDelivery" d
      WHERE d.status = 'received' AND d."receivedAt" < ${receivedBefore}
        AND d."connectionId" IS NOT NULL AND jsonb_typeof(d.payload->'recording_id') = 'number'
      ORDER BY d."receivedAt"
      LIMIT ${limit}`;
  }

  async markFailed(connectionId: string, recordingId: number, error: string): Promise<number> {
    const { count } = await this.db.webhookDelivery.updateMany({
      where: { connectionId, status: 'received', payload: { path: ['recording_id'], equals: recordingId } },
      data: { status: 'failed', error, attempts: { increment: 1 } },
    });
    return count;
  }
}
