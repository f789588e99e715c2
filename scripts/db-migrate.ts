// `npm run db:migrate`: creates the database if it does not exist yet, then applies every
// committed migration with `prisma migrate deploy`. The one command for dev, CI and compose.
import { spawnSync } from 'node:child_process';
import pg from 'pg';

const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/conduit';
const url = new URL(process.env.DATABASE_URL || DEFAULT_DATABASE_URL);
const database = decodeURIComponent(url.pathname.slice(1));

if (!/^[A-Za-z0-9_-]+$/.test(database)) {
  console.error(`DATABASE_URL names the database "${database}"; use letters, digits, _ or - only.`);
  process.exit(2);
}

const admin = new URL(url);
admin.pathname = '/postgres';
const client = new pg.Client({ connectionString: admin.toString() });
try {
  await client.connect();
  const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
  if (exists.rowCount === 0) {
    await client.query(`CREATE DATABASE "${database}"`);
    console.log(`created database ${database}`);
  }
} catch (err) {
  console.error(`Cannot reach Postgres at ${url.host} to prepare "${database}": ${(err as Error).message}. Is it running?`);
  process.exit(1);
} finally {
  await client.end().catch(() => undefined);
}

const result = spawnSync('prisma', ['migrate', 'deploy'], {
  stdio: 'inherit',
  env: { ...process.env, DATABASE_URL: url.toString() },
});
process.exit(result.status ?? 1);
