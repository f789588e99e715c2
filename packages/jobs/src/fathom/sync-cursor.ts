// What SyncState.cursor holds for Fathom meetings, and how it moves. Fathom lists newest first
// and pages with an opaque `next_cursor`, so one pass over the list starts at the newest meeting
// and ends at the watermark; only a finished pass may move the watermark, or a crash after the
// first page would skip the older pages for good. A pass in progress is therefore stored too:
// after a crash, a rate-limit wait or a `limit`, the next run resumes it where it stopped.
import type { FathomMeeting } from '@conduit/core';
import type { SyncMode } from '../queues.ts';

export interface Pass {
  mode: SyncMode;
  /** the pass lists meetings created after this (ISO), or all when null */
  createdAfter: string | null;
  /** the provider cursor of the next page; undefined at the start of a pass */
  cursor?: string | undefined;
  /** newest created_at seen so far in this pass (ISO) */
  highWater: string | null;
}

export interface MeetingsCursor {
  /** newest created_at covered by a finished pass (ISO); incremental syncs list from here */
  watermark: string | null;
  /** a pass that has not reached its end yet */
  pass: Pass | null;
}

const EMPTY: MeetingsCursor = { watermark: null, pass: null };

export function decodeCursor(raw: string | null): MeetingsCursor {
  if (raw === null || raw === '') return EMPTY;
  try {
    const parsed = JSON.parse(raw) as Partial<MeetingsCursor>;
    return { watermark: parsed.watermark ?? null, pass: parsed.pass ?? null };
  } catch {
    // A bare timestamp (the documented meaning of the column) is a watermark.
    return Number.isNaN(Date.parse(raw)) ? EMPTY : { watermark: raw, pass: null };
  }
}

export function encodeCursor(cursor: MeetingsCursor): string {
  return JSON.stringify(cursor);
}

/**
 * Where this run starts: an unfinished pass resumes (a `full` request only resumes a full pass);
 * otherwise a new pass from the watermark minus the overlap (incremental) or from the start (full).
 */
export function startPass(cursor: MeetingsCursor, mode: SyncMode, overlapMs: number): Pass {
  if (cursor.pass && (mode === 'incremental' || cursor.pass.mode === 'full')) return cursor.pass;
  const createdAfter =
    mode === 'full' || cursor.watermark === null
      ? null
      : new Date(Date.parse(cursor.watermark) - overlapMs).toISOString();
  return { mode, createdAfter, highWater: cursor.watermark };
}

/** The cursor once a page of `pass` is stored; a last page (no next cursor) finishes the pass. */
export function afterPage(
  cursor: MeetingsCursor,
  pass: Pass,
  items: readonly Pick<FathomMeeting, 'created_at'>[],
  nextCursor: string | null,
): MeetingsCursor {
  const highWater = items.reduce<string | null>((max, m) => later(max, m.created_at), pass.highWater);
  if (nextCursor !== null)
    return { watermark: cursor.watermark, pass: { ...pass, cursor: nextCursor, highWater } };
  return { watermark: later(cursor.watermark, highWater), pass: null };
}

function later(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return Date.parse(b) > Date.parse(a) ? b : a;
}
