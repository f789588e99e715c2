// Seeded, realistic Fathom meetings: invitees from the owner's team and other companies, a
// transcript in which they speak, a markdown summary. Everything derives from (seed,
// recording_id), so transcripts are generated on request instead of stored.
import { companyFor, domainOf, personFor, type Person } from '../people.ts';
import { intBetween, pick, seededRng, type Rng } from '../random.ts';

export interface Invitee {
  name: string;
  email: string;
  email_domain: string;
  is_external: boolean;
}

export interface Meeting {
  title: string;
  meeting_title: string;
  recording_id: number;
  url: string;
  share_url: string;
  created_at: string;
  scheduled_start_time: string;
  scheduled_end_time: string;
  recording_start_time: string;
  recording_end_time: string;
  transcript_language: string;
  calendar_invitees: Invitee[];
  recorded_by: { name: string; email: string; email_domain: string; team: string };
}

export interface TranscriptLine {
  speaker: { display_name: string; matched_calendar_invitee_email: string | null };
  text: string;
  timestamp: string;
}

export interface Summary {
  template_name: string;
  markdown_formatted: string;
}

export interface Owner extends Person {
  team: string;
  colleagues: Person[];
}

const TEAMS = ['Sales', 'Customer Success', 'Engineering', 'Product', 'Recruiting', 'Marketing'] as const;
const TOPICS = [
  'Weekly sync',
  'Pipeline review',
  'Quarterly roadmap review',
  'Pricing discussion',
  'Design critique',
  'Incident retrospective',
  'Onboarding kickoff',
  'Renewal check-in',
  'Technical deep dive',
  'Hiring debrief',
] as const;
const LINES = [
  'Thanks everyone for joining, let us get started.',
  'Can you share your screen so we can walk through the numbers?',
  'The main blocker right now is the integration with the billing system.',
  'We saw a twenty percent increase in activation after the last release.',
  'I think we should revisit the timeline before committing to a date.',
  'Let me take that as an action item and follow up by Friday.',
  'Their security team asked for the SOC 2 report before signing.',
  'The renewal is due next month and they want to expand to two more teams.',
  'Latency went up after the migration, mostly on the token refresh path.',
  'Could we run a pilot with a smaller group first?',
  'I will send a summary with the next steps after this call.',
  'Budget approval should come through at the end of the quarter.',
  'The feedback from the design review was mostly positive.',
  'We need an owner for the documentation update.',
  'That makes sense, let us park it and come back next week.',
  'Does anyone have concerns about the rollout plan?',
] as const;

/** The owner's team and colleagues, stable per email (what /teams and /team_members list). */
export function ownerOf(seed: number, person: Person): Owner {
  const rng = seededRng(seed, 'team', person.email);
  const domain = domainOf(person.email);
  const colleagues = Array.from({ length: intBetween(rng, 3, 7) }, () => personFor(rng, domain));
  return { ...person, team: pick(rng, TEAMS), colleagues };
}

export function generateMeeting(
  seed: number,
  recordingId: number,
  owner: Owner,
  createdAtMs: number,
): Meeting {
  const rng = seededRng(seed, 'meeting', recordingId);
  const minutes = pick(rng, [15, 25, 30, 45, 50, 60]);
  const recordingEnd = createdAtMs - intBetween(rng, 1, 5) * 60_000;
  const recordingStart = recordingEnd - (minutes - intBetween(rng, 0, 4)) * 60_000;
  const scheduledStart = Math.floor(recordingStart / 1_800_000) * 1_800_000;
  const scheduledEnd = scheduledStart + Math.ceil(minutes / 30) * 1_800_000;
  const external = companyFor(rng);
  const invitees = inviteesFor(rng, owner, external.domain);
  const topic = pick(rng, TOPICS);
  const ownerDomain = domainOf(owner.email);
  return {
    title: topic,
    meeting_title: rng() < 0.5 ? `${topic} — ${external.name}` : topic,
    recording_id: recordingId,
    url: `https://fathom.video/calls/${recordingId}`,
    share_url: `https://fathom.video/share/${shareToken(rng)}`,
    created_at: iso(createdAtMs),
    scheduled_start_time: iso(scheduledStart),
    scheduled_end_time: iso(scheduledEnd),
    recording_start_time: iso(recordingStart),
    recording_end_time: iso(recordingEnd),
    transcript_language: 'en',
    calendar_invitees: invitees.map((p) => ({
      name: p.name,
      email: p.email,
      email_domain: domainOf(p.email),
      is_external: domainOf(p.email) !== ownerDomain,
    })),
    recorded_by: { name: owner.name, email: owner.email, email_domain: ownerDomain, team: owner.team },
  };
}

export function transcriptOf(seed: number, meeting: Meeting): TranscriptLine[] {
  const rng = seededRng(seed, 'transcript', meeting.recording_id);
  const speakers = meeting.calendar_invitees.slice(0, 4);
  const durationSeconds =
    (Date.parse(meeting.recording_end_time) - Date.parse(meeting.recording_start_time)) / 1000;
  const count = intBetween(rng, 12, 40);
  const lines: TranscriptLine[] = [];
  for (let i = 0; i < count; i++) {
    const speaker = pick(rng, speakers);
    lines.push({
      speaker: {
        display_name: speaker.name,
        // Fathom matches speakers to invitees by voice and calendar; some stay unmatched.
        matched_calendar_invitee_email: rng() < 0.9 ? speaker.email : null,
      },
      text: rng() < 0.3 ? `${pick(rng, LINES)} ${pick(rng, LINES)}` : pick(rng, LINES),
      timestamp: clock(Math.floor((durationSeconds * i) / count) + intBetween(rng, 0, 9)),
    });
  }
  return lines;
}

/** Some meetings have no summary yet (null), as the real API reports. */
export function summaryOf(seed: number, meeting: Meeting): Summary | null {
  const rng = seededRng(seed, 'summary', meeting.recording_id);
  if (rng() < 0.1) return null;
  const takeaways = Array.from({ length: intBetween(rng, 2, 4) }, () => `- ${pick(rng, LINES)}`);
  const next = meeting.calendar_invitees.slice(0, 2).map((p) => `- [ ] ${p.name}: ${pick(rng, LINES)}`);
  return {
    template_name: 'general',
    markdown_formatted: `## ${meeting.title}\n\n### Key takeaways\n${takeaways.join('\n')}\n\n### Next steps\n${next.join('\n')}\n`,
  };
}

export function actionItemsOf(
  seed: number,
  meeting: Meeting,
): { description: string; assignee: { name: string; email: string } }[] {
  const rng = seededRng(seed, 'actions', meeting.recording_id);
  return meeting.calendar_invitees.slice(0, intBetween(rng, 1, 2)).map((p) => ({
    description: pick(rng, LINES),
    assignee: { name: p.name, email: p.email },
  }));
}

function inviteesFor(rng: Rng, owner: Owner, externalDomain: string): Person[] {
  const people: Person[] = [{ name: owner.name, email: owner.email }];
  const internal = intBetween(rng, 0, Math.min(2, owner.colleagues.length));
  for (let i = 0; i < internal; i++) {
    const colleague = owner.colleagues[i];
    if (colleague) people.push(colleague);
  }
  const externals = intBetween(rng, rng() < 0.2 ? 0 : 1, 3);
  for (let i = 0; i < externals; i++) people.push(personFor(rng, externalDomain));
  if (people.length === 1 && owner.colleagues[0]) people.push(owner.colleagues[0]);
  return dedupe(people);
}

function dedupe(people: Person[]): Person[] {
  const seen = new Set<string>();
  return people.filter((p) => !seen.has(p.email) && seen.add(p.email));
}

const ALPHANUMERIC = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'];

function shareToken(rng: Rng): string {
  return Array.from({ length: 22 }, () => pick(rng, ALPHANUMERIC)).join('');
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function clock(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return [h, m, s].map((n) => String(n).padStart(2, '0')).join(':');
}
