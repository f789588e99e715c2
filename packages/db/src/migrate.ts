// Applies the committed migrations (prisma/migrations/*/migration.sql) over plain `pg`, keeping
// Prisma's own bookkeeping: the `_prisma_migrations` table, its sha256 checksums and its advisory
// lock. A database migrated here is accepted by `prisma migrate deploy`/`status` and the other
// way round; the Prisma CLI costs 17–19 s a start (a wasm engine and an idle timer), this ~0.1 s.
// Each migration is sent as one simple-protocol script, so Postgres runs it as one implicit
// transaction: it applies entirely or not at all, function bodies ($$ … $$) included.
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';

export const MIGRATIONS_DIR = join(import.meta.dirname, '../../../prisma/migrations');

/** The key Prisma's schema engine takes with pg_advisory_lock, so the two never run at once. */
const PRISMA_ADVISORY_LOCK = 72707369;

/** Prisma's DDL for its history table, as `migrate deploy` creates it. */
const CREATE_HISTORY = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id" VARCHAR(36) NOT NULL,
    "checksum" VARCHAR(64) NOT NULL,
    "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL,
    "logs" TEXT,
    "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT "_prisma_migrations_pkey" PRIMARY KEY ("id")
)`;

export interface MigrationFile {
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

/** sha256 of the script as Prisma computes it: lowercase hex of the UTF-8 bytes. */
export function migrationChecksum(sql: string): string {
  return createHash('sha256').update(sql, 'utf8').digest('hex');
}

/** Prisma also accepts a checksum taken before git changed the line endings. */
function checksumMatches(sql: string, checksum: string): boolean {
  return [sql, sql.replace(/\r\n/g, '\n'), sql.replace(/\r?\n/g, '\r\n')].some(
    (variant) => migrationChecksum(variant) === checksum,
  );
}

export function readMigrations(dir: string = MIGRATIONS_DIR): MigrationFile[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: migrationChecksum(sql) };
    });
}

/** A migration history this runner will not build on; the message says what to do. */
export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

export interface MigrateResult {
  readonly applied: readonly string[];
  readonly alreadyApplied: number;
}

interface HistoryRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  logs: string | null;
}

/** Applies every committed migration not applied yet, in name order. */
export async function migrate(
  client: pg.Client,
  options: { dir?: string; onApplied?: (name: string) => void } = {},
): Promise<MigrateResult> {
  const files = readMigrations(options.dir);
  await client.query(`SELECT pg_advisory_lock(${PRISMA_ADVISORY_LOCK})`);
  try {
    await client.query(CREATE_HISTORY);
    const { rows } = await client.query<HistoryRow>(
      `SELECT migration_name, checksum, finished_at, rolled_back_at, logs FROM "_prisma_migrations" ORDER BY started_at`,
    );
    const failed = rows.find((r) => r.finished_at === null && r.rolled_back_at === null);
    if (failed) {
      throw new MigrationError(
        `migration ${failed.migration_name} failed earlier (${firstLine(failed.logs) ?? 'no log'}); repair the database, then mark it with \`npx prisma migrate resolve --rolled-back ${failed.migration_name}\` (or --applied) and start again`,
      );
    }
    const done = new Map(
      rows
        .filter((r) => r.finished_at !== null && r.rolled_back_at === null)
        .map((r) => [r.migration_name, r]),
    );
    const applied: string[] = [];
    for (const file of files) {
      const row = done.get(file.name);
      if (row) {
        if (!checksumMatches(file.sql, row.checksum)) {
          throw new MigrationError(
            `migration ${file.name} was changed after it was applied to this database (checksum ${row.checksum.slice(0, 12)}…, the file's ${file.checksum.slice(0, 12)}…); restore the committed file and put the change in a new migration (npm run db:migrate:dev)`,
          );
        }
        continue;
      }
      await applyOne(client, file);
      applied.push(file.name);
      options.onApplied?.(file.name);
    }
    return { applied, alreadyApplied: done.size };
  } finally {
    await client.query(`SELECT pg_advisory_unlock(${PRISMA_ADVISORY_LOCK})`).catch(() => undefined);
  }
}

async function applyOne(client: pg.Client, file: MigrationFile): Promise<void> {
  // Recorded before it runs, as Prisma does: a crash leaves a row that says which one failed.
  const id = randomUUID();
  await client.query(
    `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)`,
    [id, file.checksum, file.name],
  );
  try {
    // No parameters: pg sends it with the simple query protocol, every statement in one go.
    await client.query(file.sql);
  } catch (error) {
    const message = (error as Error).message;
    await client
      .query(`UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1`, [id, message])
      .catch(() => undefined);
    throw new MigrationError(`migration ${file.name} failed: ${message}`);
  }
  await client.query(
    `UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1`,
    [id],
  );
}

function firstLine(text: string | null): string | undefined {
  return text
    ?.split('\n')
    .find((l) => l.trim() !== '')
    ?.trim();
}
