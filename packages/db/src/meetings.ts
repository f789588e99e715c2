// Meetings and their transcripts. A meeting is stored once per (connection, recording id), by
// one INSERT … ON CONFLICT for a whole page, so a page seen twice (a resumed or overlapping sync,
// a webhook racing a sync) changes nothing the second time.
import { Prisma, type PrismaClient } from './generated/client.ts';

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
): Promise<number> {
  if (meetings.length === 0) return 0;
  const rows = meetings.map(
    (m) => Prisma.sql`(gen_random_uuid(), ${connectionId}::uuid, ${String(m.recordingId)}::bigint, ${m.title},
      ${m.url}, ${m.shareUrl}, ${m.providerCreatedAt}, ${m.scheduledStartAt}, ${m.scheduledEndAt},
      ${m.recordingStartAt}, ${m.recordingEndAt}, ${m.transcriptLanguage}, ${m.recordedByEmail},
      ${JSON.stringify(m.invitees ?? [])}::jsonb, ${JSON.stringify(m.raw)}::jsonb, now(), now())`,
  );
  const result = await db.$queryRaw<Array<{ inserted: boolean }>>`
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
    RETURNING (xmax = 0) AS inserted`;
  return result.filter((r) => r.inserted).length;
}

export class MeetingRepository {
  constructor(private readonly db: PrismaClient) {}

  upsert(connectionId: string, meetings: readonly MeetingInput[]): Promise<number> {
    return upsertMeetings(this.db, connectionId, meetings);
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
    const { count } = await this.db.transcript.createMany({
      data: [
        {
          meetingId,
          language: input.language,
          segments: input.segments as Prisma.InputJsonValue,
          summaryTemplate: input.summaryTemplate,
          summaryMarkdown: input.summaryMarkdown,
          fetchedAt: now,
        },
      ],
      skipDuplicates: true,
    });
    return count === 1;
  }
}
