import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/client.ts';

export type Db = PrismaClient;

export interface DbOptions {
  databaseUrl: string;
  /** pool size per process */
  poolSize?: number;
  /** how long a query may wait for a pooled connection, ms */
  connectionTimeoutMs?: number;
}

/** The one way the apps build a Prisma client: the pg driver adapter, no native engine. */
export function createDb(options: DbOptions): PrismaClient {
  const adapter = new PrismaPg({
    connectionString: options.databaseUrl,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
  });
  return new PrismaClient({ adapter });
}
