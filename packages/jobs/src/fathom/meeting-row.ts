// A Fathom Meeting (API item or webhook body) as the row Conduit stores.
import type { FathomMeeting } from '@conduit/core';
import type { MeetingInput } from '@conduit/db';

export function meetingRow(m: FathomMeeting): MeetingInput {
  return {
    recordingId: m.recording_id,
    title: m.meeting_title ?? m.title ?? 'Untitled meeting',
    url: m.url ?? null,
    shareUrl: m.share_url ?? null,
    providerCreatedAt: new Date(m.created_at),
    scheduledStartAt: date(m.scheduled_start_time),
    scheduledEndAt: date(m.scheduled_end_time),
    recordingStartAt: date(m.recording_start_time),
    recordingEndAt: date(m.recording_end_time),
    transcriptLanguage: m.transcript_language ?? null,
    recordedByEmail: m.recorded_by?.email?.trim().toLowerCase() ?? null,
    invitees: m.calendar_invitees ?? [],
    // Webhook bodies may carry the transcript and summary inline; the stored record is the Meeting.
    raw: withoutInlineContent(m),
  };
}

function date(value: string | null | undefined): Date | null {
  if (value == null) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms);
}

function withoutInlineContent(m: FathomMeeting): Record<string, unknown> {
  const {
    transcript: _t,
    default_summary: _s,
    action_items: _a,
    crm_matches: _c,
    ...meeting
  } = m as Record<string, unknown>;
  return meeting;
}
