// Fathom's API shapes (PROVIDERS.md), as schemas: what the meetings list, the transcript and the
// summary endpoints return and what a webhook delivers. Tolerant where the docs are loose
// (extra fields pass, optional fields may be null); strict only where Conduit relies on a field:
// `recording_id` (the key of a meeting) and `created_at` (the sync cursor).
import { z } from 'zod';

const nullableText = z.string().nullish();

const isoTimestamp = z
  .string()
  .refine((value) => !Number.isNaN(Date.parse(value)), { error: 'expected an ISO 8601 timestamp' });

export const FathomInviteeSchema = z.looseObject({
  name: nullableText,
  email: nullableText,
  email_domain: nullableText,
  is_external: z.boolean().nullish(),
});

export const FathomRecordedBySchema = z.looseObject({
  name: nullableText,
  email: nullableText,
  email_domain: nullableText,
  team: nullableText,
});

export const FathomMeetingSchema = z.looseObject({
  recording_id: z
    .number({ error: 'expected an integer recording id' })
    .int()
    .positive()
    .max(Number.MAX_SAFE_INTEGER),
  title: nullableText,
  meeting_title: nullableText,
  url: nullableText,
  share_url: nullableText,
  created_at: isoTimestamp,
  scheduled_start_time: nullableText,
  scheduled_end_time: nullableText,
  recording_start_time: nullableText,
  recording_end_time: nullableText,
  transcript_language: nullableText,
  calendar_invitees: z.array(FathomInviteeSchema).nullish(),
  recorded_by: FathomRecordedBySchema.nullish(),
});

export type FathomMeeting = z.infer<typeof FathomMeetingSchema>;

export const FathomMeetingsPageSchema = z.looseObject({
  limit: z.number().nullish(),
  next_cursor: nullableText,
  items: z.array(FathomMeetingSchema),
});

export interface FathomMeetingsPage {
  items: FathomMeeting[];
  /** null on the last page */
  next_cursor: string | null;
}

export const FathomTranscriptSchema = z.looseObject({
  transcript: z.array(
    z.looseObject({
      speaker: z
        .looseObject({ display_name: nullableText, matched_calendar_invitee_email: nullableText })
        .nullish(),
      text: z.string(),
      timestamp: nullableText,
    }),
  ),
});

export type FathomTranscriptLine = z.infer<typeof FathomTranscriptSchema>['transcript'][number];

export const FathomSummarySchema = z.looseObject({
  summary: z.looseObject({ template_name: nullableText, markdown_formatted: nullableText }).nullable(),
});

export type FathomSummary = z.infer<typeof FathomSummarySchema>['summary'];

export type ParseResult<T> = { ok: true; value: T } | { ok: false; problem: string };

/** Validates `value` against `schema`; the problem names the first few fields that were wrong. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown): ParseResult<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const problems = parsed.error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(body)'}: ${issue.message}`);
  return { ok: false, problem: problems.join('; ') };
}

/** A webhook body or list item as a Fathom Meeting, or what is wrong with it. */
export function parseFathomMeeting(value: unknown): ParseResult<FathomMeeting> {
  return parseWith(FathomMeetingSchema, value);
}

export const FathomTeamMembersSchema = z.looseObject({
  items: z.array(z.looseObject({ name: nullableText, email: nullableText })),
});

export interface FathomTeamMember {
  name: string | null;
  email: string | null;
}
