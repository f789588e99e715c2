// Fathom documents no "who am I" endpoint. Its meetings name their recorder (`recorded_by`), and
// the meetings a token can list are mostly the user's own recordings (those shared by teammates
// are the exception), so the account is the recorder of most listed meetings; on a tie, the
// newest meeting's (the list is newest first). `/team_members` cannot say which member "I" am,
// so it only decides when the team has a single member.
import type { AccountIdentity } from '../provider-api/outcome.ts';
import type { FathomMeeting } from './wire.ts';

export function fathomIdentityFromMeetings(meetings: readonly FathomMeeting[]): AccountIdentity | null {
  const tally = new Map<string, { count: number; name: string | null }>();
  for (const m of meetings) {
    const email = m.recorded_by?.email?.trim().toLowerCase();
    if (!email) continue;
    const seen = tally.get(email);
    if (seen) seen.count += 1;
    else tally.set(email, { count: 1, name: m.recorded_by?.name ?? null });
  }
  let best: [string, { count: number; name: string | null }] | undefined;
  // Map iteration follows insertion order (newest first), so `>` keeps the newest on a tie.
  for (const entry of tally) if (!best || entry[1].count > best[1].count) best = entry;
  // Fathom's API names no account id: the email identifies the account, the id stays unknown.
  return best ? { accountId: null, email: best[0], name: best[1].name } : null;
}

export function fathomIdentityFromTeamMembers(
  members: ReadonlyArray<{ email?: string | null; name?: string | null }>,
): AccountIdentity | null {
  const emails = members.filter((m) => m.email);
  if (emails.length !== 1) return null;
  const email = emails[0]!.email!.trim().toLowerCase();
  return { accountId: null, email, name: emails[0]!.name ?? null };
}
