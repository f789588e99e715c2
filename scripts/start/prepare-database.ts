// Creates the database when it does not exist yet and applies the committed migrations with
// our own runner (packages/db/src/migrate.ts): ~0.1 s when up to date, where the Prisma CLI
// took 17–19 s. Connection problems become one sentence (see describePostgresError).
import pg from 'pg';
import { migrate } from '@conduit/db/migrate';
import { DatastoreUnreachableError, waitForPostgres } from '@conduit/runtime/reachability';

export interface PreparedDatabase {
  readonly created: boolean;
  readonly applied: readonly string[];
}

export async function prepareDatabase(url: string, waitMs: number): Promise<PreparedDatabase> {
  const target = new URL(url);
  const database = decodeURIComponent(target.pathname.slice(1)) || 'postgres';
  if (!/^[A-Za-z0-9_-]+$/.test(database)) {
    throw new DatastoreUnreachableError(
      'Postgres',
      `DATABASE_URL names the database "${database}"; use letters, digits, _ or - only`,
      true,
    );
  }
  const admin = new URL(url);
  admin.pathname = '/postgres';
  let created = false;
  await waitForPostgres(
    async () => {
      const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 3_000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
        if (exists.rowCount === 0) {
          await client.query(`CREATE DATABASE "${database}"`).catch((error: { code?: string }) => {
            // another start created it meanwhile
            if (error.code !== '42P04') throw error;
          });
          created = true;
        }
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    url,
    waitMs,
  );
  const client = new pg.Client({ connectionString: target.toString() });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { applied } = await migrate(client);
    return { created, applied };
  } finally {
    await client.end().catch(() => undefined);
  }
}
