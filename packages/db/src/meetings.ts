// Meetings and their transcripts. A meeting is stored once per (connection, recording id), by
// one INSERT … ON CONFLICT for a whole page, so a page seen twice (a resumed or overlapping sync,
// a webhook racing a sync) changes nothing the second time. With `notify`, each new meeting and
// each stored transcript also writes its outbox row (meeting.synced, transcript.stored) in the
// same statement or transaction, deduplicated by the meeting's id, so the embedding app hears of
// it once without polling.
import { Prisma, type PrismaClient } from './generated/client.ts';

export interface MeetingNotifyOptions {
  /** write meeting.synced / transcript.stored to the outbox (when a receiver is configured) */
  notify?: boolean;
}

export interface MeetingInput {
  recordingId: number;
  title: string;
  url: string | null;
  shareUrl: string | null;
  providerCreatedAt: Date;
  scheduledStartAt: Date | null;
  scheduledEndAt: Date | null;
  recordingStartAt: Date | null;
  recordingEndAt: Date | null;
  transcriptLanguage: string | null;
  recordedByEmail: string | null;
  invitees: unknown;
  /** the provider's record as received */
  raw: unknown;
}

export interface TranscriptInput {
  language: string | null;
  segments: unknown;
  summaryTemplate: string | null;
  summaryMarkdown: string | null;
}

type Client = PrismaClient | Prisma.TransactionClient;

/** Inserts new meetings and refreshes changed ones; returns how many were new. */
export async function upsertMeetings(
  db: Client,
  connectionId: string,
  meetings: readonly MeetingInput[],
  options: MeetingNotifyOptions = {},
): Promise<number> {
  if (meetings.length === 0) return 0;
  const rows = meetings.map(
    (m) => Prisma.sql`(gen_random_uuid(), ${connectionId}::uuid, ${String(m.recordingId)}::bigint, ${m.title},
      ${m.url}, ${m.shareUrl}, ${m.providerCreatedAt}, ${m.scheduledStartAt}, ${m.scheduledEndAt},
      ${m.recordingStartAt}, ${m.recordingEndAt}, ${m.transcriptLanguage}, ${m.recordedByEmail},
      ${JSON.stringify(m.invitees ?? [])}::jsonb, ${JSON.stringify(m.raw)}::jsonb, now(), now())`,
  );
  const upsert = Prisma.sql`
    INSERT INTO "Meeting" (id, "connectionId", "recordingId", title, url, "shareUrl", "providerCreatedAt",
      "scheduledStartAt", "scheduledEndAt", "recordingStartAt", "recordingEndAt", "transcriptLanguage",
      "recordedByEmail", invitees, raw, "createdAt", "updatedAt")
    VALUES ${Prisma.join(rows)}
    ON CONFLICT ("connectionId", "recordingId") DO UPDATE SET
      title = EXCLUDED.title, url = EXCLUDED.url, "shareUrl" = EXCLUDED."shareUrl",
      "providerCreatedAt" = EXCLUDED."providerCreatedAt",
      "scheduledStartAt" = EXCLUDED."scheduledStartAt", "scheduledEndAt" = EXCLUDED."scheduledEndAt",
      "recordingStartAt" = EXCLUDED."recordingStartAt", "recordingEndAt" = EXCLUDED."recordingEndAt",
      "transcriptLanguage" = EXCLUDED."transcriptLanguage", "recordedByEmail" = EXCLUDED."recordedByEmail",
      invitees = EXCLUDED.invitees, raw = EXCLUDED.raw, "updatedAt" = now()
    WHERE "Meeting".raw IS DISTINCT FROM EXCLUDED.raw
    RETURNING id, "recordingId", title, "providerCreatedAt", (xmax = 0) AS inserted`;
  if (!options.notify) {
    const result = await db.$queryRaw<Array<{ inserted: boolean }>>(upsert);
    return result.filter((r) => r.inserted).length;
  }
  const result = await db.$queryRaw<Array<{ inserted: boolean }>>`
    WITH up AS (${upsert}),
    outbox AS (
      INSERT INTO "Notification" (id, type, "connectionId", provider, "dedupeKey", payload)
      SELECT gen_random_uuid(), 'meeting.synced', c.id, c.provider, 'meeting.synced:' || up.id,
        jsonb_build_object('connectionId', c.id, 'ownerId', c."ownerId", 'teamId', c."teamId",
          'provider', c.provider, 'meetingId', up.id, 'recordingId', up."recordingId",
          'title', up.title, 'createdAt', up."providerCreatedAt")
      FROM up JOIN "Connection" c ON c.id = ${connectionId}::uuid
      WHERE up.inserted
      ON CONFLICT ("dedupeKey") DO NOTHING
    )
    SELECT inserted FROM up`;
  return result.filter((r) => r.inserted).length;
}

export class MeetingRepository {
  constructor(
    private readonly db: PrismaClient,
    private readonly options: MeetingNotifyOptions = {},
  ) {}

  upsert(connectionId: string, meetings: readonly MeetingInput[]): Promise<number> {
    return upsertMeetings(this.db, connectionId, meetings, this.options);
  }

  find(connectionId: string, recordingId: number) {
    return this.db.meeting.findUnique({
      where: { connectionId_recordingId: { connectionId, recordingId: BigInt(recordingId) } },
      select: { id: true, transcriptLanguage: true, transcript: { select: { id: true } } },
    });
  }

  /** Of these recordings (or, without a list, the connection's latest `limit`), those with no transcript yet. */
  async withoutTranscript(
    connectionId: string,
    recordingIds?: readonly number[],
    limit = 1000,
  ): Promise<number[]> {
    const only =
      recordingIds === undefined
        ? Prisma.empty
        : Prisma.sql`AND m."recordingId" = ANY(${recordingIds.map(String)}::bigint[])`;
    const rows = await this.db.$queryRaw<Array<{ recordingId: bigint }>>`
      SELECT m."recordingId" FROM "Meeting" m
      LEFT JOIN "Transcript" t ON t."meetingId" = m.id
      WHERE m."connectionId" = ${connectionId}::uuid AND t.id IS NULL ${only}
      ORDER BY m."providerCreatedAt" DESC
      LIMIT ${limit}`;
    return rows.map((r) => Number(r.recordingId));
  }

  /** Stores the transcript once; false when the meeting already had one. */
  async storeTranscript(meetingId: string, input: TranscriptInput, now: Date): Promise<boolean> {
    const row = {
      meetingId,
      language: input.language,
      segments: input.segments as Prisma.InputJsonValue,
      summaryTemplate: input.summaryTemplate,
      summaryMarkdown: input.summaryMarkdown,
      fetchedAt: now,
    };
    if (!this.options.notify) {
      const { count } = await this.db.transcript.createMany({ data: [row], skipDuplicates: true });
      return count === 1;
    }
    return this.db.$transaction(async (tx) => {
      const { count } = await tx.transcript.createMany({ data: [row], skipDuplicates: true });
      if (count !== 1) return false;
      const m = await tx.meeting.findUniqueOrThrow({
        where: { id: meetingId },
        select: {
          recordingId: true,
          connection: { select: { id: true, ownerId: true, teamId: true, provider: true } },
        },
      });
      await tx.notification.createMany({
        data: [
          {
            type: 'transcript.stored',
            connectionId: m.connection.id,
            provider: m.connection.provider,
            dedupeKey: `transcript.stored:${meetingId}`,
            payload: {
              connectionId: m.connection.id,
              ownerId: m.connection.ownerId,
              teamId: m.connection.teamId,
              provider: m.connection.provider,
              meetingId,
              recordingId: Number(m.recordingId),
              hasSummary: input.summaryMarkdown !== null,
            },
          },
        ],
        skipDuplicates: true,
      });
      return true;
    });
  }
}
