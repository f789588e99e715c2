// Meetings as the application API reads them: one connection's, newest first, in keyset pages
// over (providerCreatedAt, id) — the (connectionId, providerCreatedAt) index serves them — and
// one meeting with its transcript and summary.
import type { PrismaClient } from './generated/client.ts';

export interface MeetingPageQuery {
  connectionId: string;
  /** only meetings the provider created at or after this */
  since?: Date | undefined;
  /** the last meeting of the previous page */
  after?: { providerCreatedAt: Date; id: string } | undefined;
  limit: number;
}

const MEETING_FIELDS = {
  id: true,
  connectionId: true,
  recordingId: true,
  title: true,
  url: true,
  shareUrl: true,
  providerCreatedAt: true,
  scheduledStartAt: true,
  scheduledEndAt: true,
  recordingStartAt: true,
  recordingEndAt: true,
  transcriptLanguage: true,
  recordedByEmail: true,
  invitees: true,
} as const;

export class MeetingReads {
  constructor(private readonly db: PrismaClient) {}

  /** Up to `limit` meetings, newest first, plus whether more follow. */
  async page(q: MeetingPageQuery) {
    const rows = await this.db.meeting.findMany({
      where: {
        connectionId: q.connectionId,
        ...(q.since !== undefined && { providerCreatedAt: { gte: q.since } }),
        ...(q.after !== undefined && {
          OR: [
            { providerCreatedAt: { lt: q.after.providerCreatedAt } },
            { providerCreatedAt: q.after.providerCreatedAt, id: { lt: q.after.id } },
          ],
        }),
      },
      select: { ...MEETING_FIELDS, transcript: { select: { id: true } } },
      orderBy: [{ providerCreatedAt: 'desc' }, { id: 'desc' }],
      take: q.limit + 1,
    });
    const more = rows.length > q.limit;
    return { items: rows.slice(0, q.limit), more };
  }

  /** One meeting with its transcript and summary when stored. */
  one(id: string) {
    return this.db.meeting.findUnique({
      where: { id },
      select: {
        ...MEETING_FIELDS,
        transcript: {
          select: {
            language: true,
            segments: true,
            summaryTemplate: true,
            summaryMarkdown: true,
            fetchedAt: true,
          },
        },
      },
    });
  }
}
