// The page cursor of a meeting listing: the last meeting's (providerCreatedAt, id), opaque to
// clients (base64url JSON). A cursor that does not decode is the caller's mistake: 400.
import { HttpProblem } from '../../problem.ts';

export interface MeetingCursor {
  providerCreatedAt: Date;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function encodeCursor(c: MeetingCursor): string {
  return Buffer.from(JSON.stringify({ t: c.providerCreatedAt.toISOString(), id: c.id })).toString(
    'base64url',
  );
}

export function decodeCursor(text: string): MeetingCursor {
  try {
    const raw = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as { t?: unknown; id?: unknown };
    const at = typeof raw.t === 'string' ? new Date(raw.t) : new Date(NaN);
    if (typeof raw.id === 'string' && UUID.test(raw.id) && !Number.isNaN(at.getTime())) {
      return { providerCreatedAt: at, id: raw.id };
    }
  } catch {
    // falls through to the problem below
  }
  throw new HttpProblem(
    400,
    'invalid-cursor',
    'The cursor is not valid',
    'pass the nextCursor of the previous page unchanged',
    { code: 'invalid_cursor' },
  );
}
