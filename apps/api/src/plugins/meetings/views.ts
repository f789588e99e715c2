// Meetings as the API shows them: ids as the provider numbers them, dates as ISO strings, the
// transcript and summary only on the single-meeting read.
import type { MeetingReads } from '@conduit/db';

type PageRow = Awaited<ReturnType<MeetingReads['page']>>['items'][number];
type OneRow = NonNullable<Awaited<ReturnType<MeetingReads['one']>>>;

const iso = (d: Date | null) => d?.toISOString() ?? null;

export function meetingView(m: Omit<PageRow, 'transcript'>) {
  return {
    id: m.id,
    connectionId: m.connectionId,
    recordingId: Number(m.recordingId),
    title: m.title,
    url: m.url,
    shareUrl: m.shareUrl,
    createdAt: m.providerCreatedAt.toISOString(),
    scheduledStartAt: iso(m.scheduledStartAt),
    scheduledEndAt: iso(m.scheduledEndAt),
    recordingStartAt: iso(m.recordingStartAt),
    recordingEndAt: iso(m.recordingEndAt),
    transcriptLanguage: m.transcriptLanguage,
    recordedByEmail: m.recordedByEmail,
    invitees: m.invitees,
  };
}

export function listedMeetingView(m: PageRow) {
  return { ...meetingView(m), hasTranscript: m.transcript !== null };
}

export function fullMeetingView(m: OneRow) {
  const t = m.transcript;
  return {
    ...meetingView(m),
    transcript:
      t === null
        ? null
        : {
            language: t.language,
            segments: t.segments,
            fetchedAt: t.fetchedAt.toISOString(),
          },
    summary:
      t === null || t.summaryMarkdown === null
        ? null
        : { template: t.summaryTemplate, markdown: t.summaryMarkdown },
  };
}

const nullableString = { type: ['string', 'null'] } as const;
const nullableDate = { type: ['string', 'null'], format: 'date-time' } as const;

export const meetingSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    connectionId: { type: 'string', format: 'uuid' },
    recordingId: { type: 'integer' },
    title: { type: 'string' },
    url: nullableString,
    shareUrl: nullableString,
    createdAt: {
      type: 'string',
      format: 'date-time',
      description: 'when the provider created the recording',
    },
    scheduledStartAt: nullableDate,
    scheduledEndAt: nullableDate,
    recordingStartAt: nullableDate,
    recordingEndAt: nullableDate,
    transcriptLanguage: nullableString,
    recordedByEmail: nullableString,
    invitees: { type: 'array', items: { type: 'object', additionalProperties: true } },
  },
} as const;

export const listedMeetingSchema = {
  ...meetingSchema,
  properties: { ...meetingSchema.properties, hasTranscript: { type: 'boolean' } },
} as const;

export const fullMeetingSchema = {
  ...meetingSchema,
  properties: {
    ...meetingSchema.properties,
    transcript: {
      type: ['object', 'null'],
      properties: {
        language: nullableString,
        segments: { type: 'array', items: { type: 'object', additionalProperties: true } },
        fetchedAt: { type: 'string', format: 'date-time' },
      },
    },
    summary: {
      type: ['object', 'null'],
      properties: { template: nullableString, markdown: { type: 'string' } },
    },
  },
} as const;
