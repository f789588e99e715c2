import { integer, port, url } from '../kinds.ts';
import { fromPort, variable } from '../variable.ts';
import type { EnvReader } from '../variable.ts';

const localDatabaseUrl = (port: string) => `postgresql://postgres@127.0.0.1:${port}/conduit`;
const LOCAL_DATABASE_URL = localDatabaseUrl('5432');

export const CONDUIT_LOCAL_POSTGRES_PORT = variable({
  name: 'CONDUIT_LOCAL_POSTGRES_PORT',
  group: 'database',
  description:
    'Port of the local Postgres on 127.0.0.1 that DATABASE_URL defaults to. With DATABASE_URL unset and nothing answering there, `npm start` runs an embedded Postgres on this port, its data in CONDUIT_DATA_DIR.',
  schema: port(5432),
  development: '5432',
  production: '5432',
});

export const DATABASE_URL = variable({
  name: 'DATABASE_URL',
  group: 'database',
  description: 'Postgres connection URL (Prisma). Include the password here, or use PGPASSWORD / .pgpass.',
  schema: url({ protocols: ['postgres', 'postgresql'], noun: 'a Postgres URL', example: LOCAL_DATABASE_URL }),
  development: fromPort(CONDUIT_LOCAL_POSTGRES_PORT.name, 5432, localDatabaseUrl),
  production: fromPort(CONDUIT_LOCAL_POSTGRES_PORT.name, 5432, localDatabaseUrl),
});

export const DATABASE_POOL_SIZE = variable({
  name: 'DATABASE_POOL_SIZE',
  group: 'database',
  description: 'Most Postgres connections one process opens.',
  schema: integer({ min: 1, max: 1000, noun: 'a connection count', example: 10 }),
  development: '10',
  production: '10',
});

export const DATABASE_STATEMENT_TIMEOUT_MS = variable({
  name: 'DATABASE_STATEMENT_TIMEOUT_MS',
  group: 'database',
  description:
    'Longest any statement may run (Postgres statement_timeout; the client gives up 5 s later if the server stops answering). 0 turns it off.',
  schema: integer({ min: 0, max: 2_147_483_647, noun: 'a number of milliseconds', example: 30_000 }),
  development: '30000',
  production: '30000',
});

export const DATABASE_LOCK_TIMEOUT_MS = variable({
  name: 'DATABASE_LOCK_TIMEOUT_MS',
  group: 'database',
  description:
    'Longest a statement may wait for a row or table lock (Postgres lock_timeout), so one locked row delays only the work on it. 0 turns it off.',
  schema: integer({ min: 0, max: 2_147_483_647, noun: 'a number of milliseconds', example: 5_000 }),
  development: '5000',
  production: '5000',
});

export const databaseVariables = [
  DATABASE_URL,
  CONDUIT_LOCAL_POSTGRES_PORT,
  DATABASE_POOL_SIZE,
  DATABASE_STATEMENT_TIMEOUT_MS,
  DATABASE_LOCK_TIMEOUT_MS,
];

export interface DatabaseConfig {
  readonly url: string;
  /** DATABASE_URL was set; otherwise the local default applies, and `npm start` may embed one. */
  readonly urlIsSet: boolean;
  readonly localPort: number;
  readonly poolSize: number;
  readonly statementTimeoutMs: number;
  readonly lockTimeoutMs: number;
}

export function readDatabase(r: EnvReader): DatabaseConfig {
  return {
    url: r.read(DATABASE_URL),
    urlIsSet: r.isSet(DATABASE_URL),
    localPort: r.read(CONDUIT_LOCAL_POSTGRES_PORT),
    poolSize: r.read(DATABASE_POOL_SIZE),
    statementTimeoutMs: r.read(DATABASE_STATEMENT_TIMEOUT_MS),
    lockTimeoutMs: r.read(DATABASE_LOCK_TIMEOUT_MS),
  };
}
