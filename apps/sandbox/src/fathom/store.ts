// Fathom's data per account: meetings (kept sorted by creation), registered webhooks, and the
// keyset-cursor pagination of GET /meetings (newest first; stable while meetings are added).
import type { Account } from '../grants/accounts.ts';
import { generateMeeting, ownerOf, type Meeting, type Owner } from './generator.ts';

export interface StoredMeeting {
  meeting: Meeting;
  createdAtMs: number;
  accountId: string;
}

/** What a webhook can fire for (`triggered_for`); a recording is of exactly one of these kinds for its account. */
export const WEBHOOK_TRIGGERS = [
  'my_recordings',
  'shared_external_recordings',
  'my_shared_with_team_recordings',
  'shared_team_recordings',
] as const;
export type WebhookTrigger = (typeof WEBHOOK_TRIGGERS)[number];

export interface Webhook {
  id: string;
  accountId: string;
  destinationUrl: string;
  secret: string;
  triggeredFor: readonly string[];
  includeTranscript: boolean;
  includeSummary: boolean;
  includeActionItems: boolean;
  includeCrmMatches: boolean;
  createdAt: string;
}

export interface MeetingQuery {
  createdAfter?: number | undefined;
  createdBefore?: number | undefined;
  cursor?: string | undefined;
}

export class InvalidCursor extends Error {}

const FIRST_RECORDING_ID = 120_000_000;

export class FathomStore {
  private readonly meetings = new Map<string, StoredMeeting[]>();
  private readonly recordings = new Map<number, StoredMeeting>();
  private readonly owners = new Map<string, Owner>();
  readonly webhooks = new Map<string, Webhook[]>();
  private nextRecordingId = FIRST_RECORDING_ID;

  constructor(private readonly seed: number) {}

  owner(account: Account): Owner {
    let owner = this.owners.get(account.id);
    if (!owner) this.owners.set(account.id, (owner = ownerOf(this.seed, account)));
    return owner;
  }

  add(account: Account, createdAtMs: number): StoredMeeting {
    const recordingId = this.nextRecordingId++;
    const stored: StoredMeeting = {
      meeting: generateMeeting(this.seed, recordingId, this.owner(account), createdAtMs),
      createdAtMs,
      accountId: account.id,
    };
    const list = this.meetings.get(account.id) ?? [];
    this.meetings.set(account.id, list);
    list.splice(upperBound(list, createdAtMs, recordingId), 0, stored);
    this.recordings.set(recordingId, stored);
    return stored;
  }

  recording(accountId: string, recordingId: number): StoredMeeting | undefined {
    const stored = this.recordings.get(recordingId);
    return stored?.accountId === accountId ? stored : undefined;
  }

  /** One page, newest first; `nextCursor` is null on the last page. */
  page(
    accountId: string,
    query: MeetingQuery,
    pageSize: number,
  ): { items: Meeting[]; nextCursor: string | null } {
    const list = this.meetings.get(accountId) ?? [];
    let index = list.length - 1;
    if (query.cursor !== undefined) {
      const [at, id] = decodeCursor(query.cursor);
      index = upperBound(list, at, id - 1) - 1;
    }
    const after = query.createdAfter ?? -Infinity;
    const before = query.createdBefore ?? Infinity;
    const page: StoredMeeting[] = [];
    for (; index >= 0 && page.length < pageSize; index--) {
      const stored = list[index]!;
      if (stored.createdAtMs <= after) break;
      if (stored.createdAtMs < before) page.push(stored);
    }
    const more = index >= 0 && list[index]!.createdAtMs > after;
    const last = page[page.length - 1];
    return {
      items: page.map((stored) => stored.meeting),
      nextCursor: more && last ? encodeCursor(last.createdAtMs, last.meeting.recording_id) : null,
    };
  }

  /** Removes a webhook wherever it is (the user deleting it in Fathom's settings); false when unknown. */
  removeWebhook(id: string): boolean {
    for (const list of this.webhooks.values()) {
      const index = list.findIndex((w) => w.id === id);
      if (index >= 0) {
        list.splice(index, 1);
        return true;
      }
    }
    return false;
  }

  allWebhooks(): Webhook[] {
    return [...this.webhooks.values()].flat();
  }

  clear(): void {
    this.meetings.clear();
    this.recordings.clear();
    this.owners.clear();
    this.webhooks.clear();
    this.nextRecordingId = FIRST_RECORDING_ID;
  }
}

/** The first index whose (createdAt, recordingId) is greater than the given key. */
function upperBound(list: readonly StoredMeeting[], createdAtMs: number, recordingId: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const m = list[mid]!;
    const greater =
      m.createdAtMs > createdAtMs || (m.createdAtMs === createdAtMs && m.meeting.recording_id > recordingId);
    if (greater) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function encodeCursor(createdAtMs: number, recordingId: number): string {
  return Buffer.from(`${createdAtMs}.${recordingId}`).toString('base64url');
}

function decodeCursor(cursor: string): [number, number] {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('.').map(Number);
  if (at === undefined || id === undefined || !Number.isFinite(at) || !Number.isInteger(id)) {
    throw new InvalidCursor(`cursor "${cursor}" is not one this API returned`);
  }
  return [at, id];
}
