// Simulated meetings: seeded past meetings for sync tests, and "just recorded" ones whose
// Meeting payload goes to every webhook the account registered.
import type { Grant } from '../grants/store.ts';
import { intBetween, seededRng } from '../random.ts';
import type { SandboxState } from '../state.ts';
import { actionItemsOf, summaryOf, transcriptOf, type Meeting } from './generator.ts';
import type { Webhook, WebhookTrigger } from './store.ts';
import type { Delivery } from './webhooks.ts';

const DAY = 86_400_000;

/** `count` meetings spread over the past `days` days, in working hours; added oldest first. */
export function seedPastMeetings(
  sb: SandboxState,
  grant: Pick<Grant, 'account'>,
  count: number,
  days: number,
  now: number,
): Meeting[] {
  const rng = seededRng(sb.seed, 'past-meetings', grant.account.id, count);
  const today = Math.floor(now / DAY) * DAY;
  const times = Array.from({ length: count }, () => {
    const t =
      today - intBetween(rng, 0, Math.max(0, days - 1)) * DAY + intBetween(rng, 8 * 60, 18 * 60) * 60_000;
    return t < now ? t : now - intBetween(rng, 1, 600) * 60_000;
  });
  times.sort((a, b) => a - b);
  return times.map((t) => sb.fathom.add(grant.account, t).meeting);
}

export interface Recorded {
  meetings: Meeting[];
  deliveries: Delivery[];
}

/**
 * Meetings that finished processing just now, delivered to the webhooks of that account (no
 * other) whose `triggered_for` names the recording's kind, each signed with its own secret.
 */
export function recordMeetings(
  sb: SandboxState,
  grant: Grant,
  count: number,
  now: number,
  trigger: WebhookTrigger = 'my_recordings',
  opts: { deliver: boolean } = { deliver: true },
): Recorded {
  const webhooks = opts.deliver
    ? (sb.fathom.webhooks.get(grant.account.id) ?? []).filter((w) => w.triggeredFor.includes(trigger))
    : [];
  const meetings: Meeting[] = [];
  const deliveries: Delivery[] = [];
  for (let i = 0; i < count; i++) {
    const meeting = sb.fathom.add(grant.account, now - (count - 1 - i)).meeting;
    meetings.push(meeting);
    for (const webhook of webhooks) {
      deliveries.push(
        sb.webhooks.deliver(
          webhook,
          meeting.recording_id,
          JSON.stringify(payload(sb.seed, meeting, webhook)),
        ),
      );
    }
  }
  return { meetings, deliveries };
}

function payload(seed: number, meeting: Meeting, webhook: Webhook): Record<string, unknown> {
  return {
    ...meeting,
    ...(webhook.includeTranscript ? { transcript: transcriptOf(seed, meeting) } : {}),
    ...(webhook.includeSummary ? { default_summary: summaryOf(seed, meeting) } : {}),
    ...(webhook.includeActionItems ? { action_items: actionItemsOf(seed, meeting) } : {}),
    ...(webhook.includeCrmMatches ? { crm_matches: null } : {}),
  };
}
