import { integer, url } from '../kinds.ts';
import { variable } from '../variable.ts';
import type { EnvReader } from '../variable.ts';

const LOCAL_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/conduit';

export const DATABASE_URL = variable({
  name: 'DATABASE_URL',
  group: 'database',
  description: 'Postgres connection URL (Prisma). Include the password here, or use PGPASSWORD / .pgpass.',
  schema: url({ protocols: ['postgres', 'postgresql'], noun: 'a Postgres URL', example: LOCAL_DATABASE_URL }),
  development: LOCAL_DATABASE_URL,
  production: LOCAL_DATABASE_URL,
});

export const DATABASE_POOL_SIZE = variable({
  name: 'DATABASE_POOL_SIZE',
  group: 'database',
  description: 'Most Postgres connections one process opens.',
  schema: integer({ min: 1, max: 1000, noun: 'a connection count', example: 10 }),
  development: '10',
  production: '10',
});

export const databaseVariables = [DATABASE_URL, DATABASE_POOL_SIZE];

export interface DatabaseConfig {
  readonly url: string;
  readonly poolSize: number;
}

export function readDatabase(r: EnvReader): DatabaseConfig {
  return { url: r.read(DATABASE_URL), poolSize: r.read(DATABASE_POOL_SIZE) };
}
