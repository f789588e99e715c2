import { describe, expect, it } from 'vitest';
import {
  fathomIdentityFromMeetings,
  fathomIdentityFromTeamMembers,
  parseFathomMeeting,
  type FathomMeeting,
} from '../src/index.ts';

const meeting = (over: Record<string, unknown> = {}) => ({
  title: 'Weekly sync',
  meeting_title: 'Weekly sync — Acme',
  recording_id: 123_456_789,
  url: 'https://fathom.video/calls/123456789',
  share_url: 'https://fathom.video/share/abc',
  created_at: '2026-03-01T10:00:00Z',
  scheduled_start_time: '2026-03-01T09:00:00Z',
  scheduled_end_time: '2026-03-01T09:30:00Z',
  recording_start_time: '2026-03-01T09:01:00Z',
  recording_end_time: '2026-03-01T09:29:00Z',
  transcript_language: 'en',
  calendar_invitees: [{ name: 'Ada', email: 'ada@acme.test', email_domain: 'acme.test', is_external: false }],
  recorded_by: { name: 'Ada', email: 'ada@acme.test', email_domain: 'acme.test', team: 'Sales' },
  ...over,
});

describe('fathom › Meeting', () => {
  it('accepts the documented Meeting, extra fields included (webhooks add transcript, summary…)', () => {
    const parsed = parseFathomMeeting(meeting({ transcript: [], default_summary: null, crm_matches: null }));
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(parsed.value.recording_id).toBe(123_456_789);
  });

  it('tolerates optional fields that are null or absent', () => {
    expect(
      parseFathomMeeting({ recording_id: 1, created_at: '2026-03-01T10:00:00Z', recorded_by: null }).ok,
    ).toBe(true);
    expect(parseFathomMeeting({ recording_id: 1, created_at: '2026-03-01T10:00:00Z', title: null }).ok).toBe(
      true,
    );
  });

  it.each([
    ['not an object', 'hello', '(body)'],
    ['no recording_id', meeting({ recording_id: undefined }), 'recording_id'],
    ['a string recording_id', meeting({ recording_id: '123' }), 'recording_id'],
    ['a fractional recording_id', meeting({ recording_id: 1.5 }), 'recording_id'],
    ['no created_at', meeting({ created_at: undefined }), 'created_at'],
    ['a created_at that is not a time', meeting({ created_at: 'yesterday-ish' }), 'created_at'],
    ['invitees that are not a list', meeting({ calendar_invitees: 'ada' }), 'calendar_invitees'],
  ])('refuses %s, naming the field', (_name, value, field) => {
    const parsed = parseFathomMeeting(value);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toContain(field);
  });
});

describe('fathom › identity', () => {
  const by = (email: string | null, id: number) =>
    meeting({
      recording_id: id,
      recorded_by: email === null ? null : { name: email.split('@')[0], email },
    }) as FathomMeeting;

  it('the account is the recorder of most listed meetings, lower-cased', () => {
    const who = fathomIdentityFromMeetings([
      by('teammate@acme.test', 1),
      by('Ada@Acme.test', 2),
      by('ada@acme.test', 3),
    ]);
    expect(who).toEqual({ accountId: null, email: 'ada@acme.test', name: 'Ada' });
  });

  it('on a tie, the newest meeting (listed first) decides', () => {
    expect(fathomIdentityFromMeetings([by('new@acme.test', 2), by('old@acme.test', 1)])?.email).toBe(
      'new@acme.test',
    );
  });

  it('no meetings (or none with a recorder) say nothing', () => {
    expect(fathomIdentityFromMeetings([])).toBeNull();
    expect(fathomIdentityFromMeetings([by(null, 1)])).toBeNull();
  });

  it('team members decide only for a one-person team', () => {
    expect(fathomIdentityFromTeamMembers([{ name: 'Solo', email: 'Solo@acme.test' }])).toEqual({
      accountId: null,
      email: 'solo@acme.test',
      name: 'Solo',
    });
    expect(fathomIdentityFromTeamMembers([{ email: 'a@acme.test' }, { email: 'b@acme.test' }])).toBeNull();
  });
});
