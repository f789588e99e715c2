// Migrates one template database per migration set; each test file then clones it
// (CREATE DATABASE … TEMPLATE …), which is far faster than migrating per file.
// The template is reused while the migrations are unchanged (their hash is kept as the
// database's comment). Migrating is our own runner in this process (~0.5 s from empty), where
// `npm run db:migrate` through the Prisma CLI cost ~11 s, mostly a timer in its wasm engine.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { migrate } from '@conduit/db/migrate';
import { TEMPLATE_DATABASE, TEST_ADMIN_DATABASE_URL, databaseUrl } from './env.ts';

const MIGRATIONS_DIR = join(import.meta.dirname, '../../../prisma/migrations');

export function migrationsHash(): string {
  const h = createHash('sha256');
  for (const dir of readdirSync(MIGRATIONS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()) {
    h.update(dir).update(readFileSync(join(MIGRATIONS_DIR, dir, 'migration.sql')));
  }
  return h.digest('hex').slice(0, 32);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export default async function setup(): Promise<void> {
  const hash = migrationsHash();
  const admin = new pg.Client({ connectionString: TEST_ADMIN_DATABASE_URL });
  await admin.connect();
  try {
    // Leftovers of runs that were killed before their teardown: databases whose creating
    // process (its pid is in the name) is gone. Other runs' live databases are left alone.
    const stale = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE 'conduit\\_t\\_%'`,
    );
    for (const { datname } of stale.rows) {
      const pid = Number(datname.split('_')[2]);
      if (Number.isInteger(pid) && processAlive(pid)) continue;
      await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
    const current = await admin.query<{ comment: string | null }>(
      `SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1`,
      [TEMPLATE_DATABASE],
    );
    if (current.rows[0]?.comment === hash) return;
    await admin.query(`DROP DATABASE IF EXISTS "${TEMPLATE_DATABASE}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${TEMPLATE_DATABASE}"`);
    const template = new pg.Client({ connectionString: databaseUrl(TEMPLATE_DATABASE) });
    await template.connect();
    try {
      await migrate(template);
    } finally {
      await template.end();
    }
    await admin.query(`COMMENT ON DATABASE "${TEMPLATE_DATABASE}" IS '${hash}'`);
  } finally {
    await admin.end();
  }
}
