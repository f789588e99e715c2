// Errors that are not bugs of ours: a datastore that is down or slow (503, come back later) and
// text Postgres cannot hold (400: the input is at fault, and sending it again will not help).
// Without this they would be 500s, and a 500 says "our fault, retry".
import { HttpProblem } from '../problem.ts';

export class DatastoreTimeout extends Error {
  constructor(
    readonly datastore: 'postgres' | 'redis',
    readonly what: string,
    readonly ms: number,
  ) {
    super(`${datastore} did not answer ${what} within ${ms} ms`);
    this.name = 'DatastoreTimeout';
  }
}

/** Settles with the promise, or rejects with DatastoreTimeout after `ms`; the work itself goes on. */
export function within<T>(
  promise: Promise<T>,
  ms: number,
  datastore: 'postgres' | 'redis',
  what: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DatastoreTimeout(datastore, what, ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface AdapterCause {
  kind?: string;
  originalCode?: string;
  code?: string;
}

const UNREACHABLE_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
const UNREACHABLE_KINDS = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
]);
/** character_not_in_repertoire (a NUL in text), untranslatable_character (\u0000 in jsonb) */
const BAD_TEXT_CODES = new Set(['22021', '22P05']);

export interface Unavailable {
  datastore: 'postgres' | 'redis';
  status: 400 | 503;
  problem: HttpProblem;
}

export function datastoreUnavailable(err: unknown): Unavailable | null {
  if (!(err instanceof Error)) return null;
  if (err instanceof DatastoreTimeout) return down(err.datastore, err.message);
  const e = err as Error & { code?: string; meta?: { driverAdapterError?: { cause?: AdapterCause } } };
  const cause = e.meta?.driverAdapterError?.cause;
  const pgCode = cause?.originalCode ?? cause?.code;
  if (pgCode !== undefined && BAD_TEXT_CODES.has(pgCode)) {
    return {
      datastore: 'postgres',
      status: 400,
      problem: new HttpProblem(
        400,
        'invalid-characters',
        'The request holds characters that cannot be stored',
        'text must not contain NUL (U+0000) or unpaired UTF-16 surrogates',
      ),
    };
  }
  if (
    (e.code !== undefined && UNREACHABLE_PRISMA_CODES.has(e.code)) ||
    (cause?.kind !== undefined && UNREACHABLE_KINDS.has(cause.kind))
  ) {
    return down('postgres', 'Postgres is not reachable');
  }
  if (
    e.name === 'MaxRetriesPerRequestError' ||
    e.message === 'Connection is closed.' ||
    /^connect ECONNREFUSED .*:\d+$/.test(e.message)
  ) {
    return down('redis', 'Redis is not reachable');
  }
  return null;
}

function down(datastore: 'postgres' | 'redis', detail: string): Unavailable {
  return {
    datastore,
    status: 503,
    problem: new HttpProblem(
      503,
      'datastore-unavailable',
      `${datastore === 'postgres' ? 'Postgres' : 'Redis'} is unavailable`,
      `${detail}; try again shortly`,
      { datastore },
    ),
  };
}
