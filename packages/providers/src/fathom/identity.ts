// Who a Fathom token belongs to. Fathom documents no "me" endpoint: the recorder of the listed
// meetings is the account (core's fathomIdentityFromMeetings says how it is chosen); with no
// meetings yet, /team_members decides only for a one-person team. `null` means "not known yet":
// the sync fills the email in once meetings appear.
import {
  fathomIdentityFromMeetings,
  fathomIdentityFromTeamMembers,
  type AccountIdentity,
  type ApiOutcome,
} from '@conduit/core';
import type { CallOptions, FathomClient } from './client.ts';

export interface IdentityAnswer {
  outcome: ApiOutcome<AccountIdentity | null>;
  /** API requests made, so the caller can charge them to the account's budget */
  requests: number;
}

export async function identifyFathomAccount(
  client: FathomClient,
  accessToken: string,
  opts: CallOptions = {},
): Promise<IdentityAnswer> {
  const meetings = await client.listMeetings(accessToken, {}, opts);
  if (meetings.kind !== 'ok') return { outcome: meetings, requests: 1 };
  const fromMeetings = fathomIdentityFromMeetings(meetings.value.items);
  if (fromMeetings) return { outcome: { kind: 'ok', value: fromMeetings }, requests: 1 };
  const members = await client.listTeamMembers(accessToken, opts);
  if (members.kind !== 'ok') return { outcome: members, requests: 2 };
  return { outcome: { kind: 'ok', value: fathomIdentityFromTeamMembers(members.value) }, requests: 2 };
}
