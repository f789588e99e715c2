// A Fathom Meeting as its "new meeting content ready" webhook delivers it (PROVIDERS.md), for
// the benchmarks that send signed deliveries.
export function fathomMeeting(m: {
  recordingId: number;
  createdAt: string;
  email: string;
  name: string;
}): string {
  const domain = m.email.split('@')[1] ?? 'example.com';
  const end = m.createdAt;
  const start = new Date(Date.parse(end) - 3_600_000).toISOString();
  return JSON.stringify({
    title: `Weekly sync ${m.recordingId}`,
    meeting_title: `Weekly sync ${m.recordingId}`,
    recording_id: m.recordingId,
    url: `https://fathom.video/calls/${m.recordingId}`,
    share_url: `https://fathom.video/share/r${m.recordingId}`,
    created_at: end,
    scheduled_start_time: start,
    scheduled_end_time: end,
    recording_start_time: start,
    recording_end_time: end,
    transcript_language: 'en',
    calendar_invitees: [
      { name: m.name, email: m.email, email_domain: domain, is_external: false },
      {
        name: 'Guest Person',
        email: 'guest@customer.example',
        email_domain: 'customer.example',
        is_external: true,
      },
    ],
    recorded_by: { name: m.name, email: m.email, email_domain: domain, team: 'Chaos' },
  });
}
