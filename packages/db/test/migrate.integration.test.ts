// Our migration runner against Prisma's own: a database migrated by either is accepted by the
// other, with the same schema and the same `_prisma_migrations` rows (checksums included).
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MIGRATIONS_DIR,
  MigrationError,
  migrate,
  migrationChecksum,
  readMigrations,
} from '../src/migrate.ts';
import { TEST_ADMIN_DATABASE_URL, databaseUrl } from '@conduit/testing';

const ROOT = join(import.meta.dirname, '../../..');
const run = promisify(execFile);
const names = [
  `conduit_mig_a_${process.pid}`,
  `conduit_mig_b_${process.pid}`,
  `conduit_mig_c_${process.pid}`,
];

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: TEST_ADMIN_DATABASE_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function withDb<T>(name: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: databaseUrl(name) });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function prisma(name: string, ...args: string[]): Promise<string> {
  const { stdout, stderr } = await run('npx', ['prisma', 'migrate', ...args], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl(name) },
  });
  return `${stdout}\n${stderr}`;
}

const history = (c: pg.Client) =>
  c
    .query<{ migration_name: string; checksum: string; applied_steps_count: number; finished: boolean }>(
      `SELECT migration_name, checksum, applied_steps_count, finished_at IS NOT NULL AS finished
         FROM _prisma_migrations ORDER BY migration_name`,
    )
    .then((r) => r.rows);

const schema = (c: pg.Client) =>
  c
    .query<{ d: string }>(
      `SELECT string_agg(table_name || '.' || column_name || ':' || data_type, ',' ORDER BY table_name, column_name) AS d
         FROM information_schema.columns WHERE table_schema = 'public'`,
    )
    .then((r) => r.rows[0]!.d);

beforeAll(async () => {
  await admin(async (c) => {
    for (const n of names) {
      await c.query(`DROP DATABASE IF EXISTS "${n}" WITH (FORCE)`);
      await c.query(`CREATE DATABASE "${n}"`);
    }
  });
});

afterAll(async () => {
  await admin(async (c) => {
    for (const n of names) await c.query(`DROP DATABASE IF EXISTS "${n}" WITH (FORCE)`);
  });
});

describe('migrate (our runner) and prisma migrate', () => {
  it('the checksum is sha256 of the migration file, as Prisma records it', () => {
    const files = readMigrations();
    expect(files.length).toBeGreaterThan(0);
    expect(files[0]!.checksum).toBe(migrationChecksum(files[0]!.sql));
    expect(files[0]!.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a database migrated by prisma migrate deploy is up to date for our runner, which applies nothing', async () => {
    await prisma(names[0]!, 'deploy');
    const result = await withDb(names[0]!, (c) => migrate(c));
    expect(result.applied).toEqual([]);
    expect(result.alreadyApplied).toBe(readMigrations().length);
  }, 120_000);

  it('a database migrated by our runner is up to date for prisma migrate status and deploy, with the same history and schema', async () => {
    const result = await withDb(names[1]!, (c) => migrate(c));
    expect(result.applied).toEqual(readMigrations().map((m) => m.name));
    expect(await prisma(names[1]!, 'status')).toContain('Database schema is up to date');
    expect(await prisma(names[1]!, 'deploy')).toContain('No pending migrations to apply');
    expect(await withDb(names[1]!, history)).toEqual(await withDb(names[0]!, history));
    expect(await withDb(names[1]!, schema)).toEqual(await withDb(names[0]!, schema));
  }, 120_000);

  it('a committed migration changed after it was applied is refused with one line that says what to do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'conduit-migrations-'));
    try {
      cpSync(MIGRATIONS_DIR, dir, { recursive: true });
      const first = readMigrations(dir)[0]!;
      writeFileSync(join(dir, first.name, 'migration.sql'), `${first.sql}\n-- edited\n`);
      const error = await withDb(names[1]!, (c) => migrate(c, { dir })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MigrationError);
      expect((error as Error).message).toMatch(
        new RegExp(`^migration ${first.name} was changed after it was applied`),
      );
      expect((error as Error).message).not.toContain('\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a failing migration leaves nothing half-applied, records its error as Prisma does, and blocks later runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'conduit-migrations-'));
    try {
      cpSync(MIGRATIONS_DIR, dir, { recursive: true });
      const broken = '29991231000000_broken';
      cpSync(join(dir, readMigrations(dir)[0]!.name), join(dir, broken), { recursive: true });
      writeFileSync(
        join(dir, broken, 'migration.sql'),
        'CREATE TABLE "Half" (id int);\nSELECT no_such_function();\n',
      );
      await withDb(names[2]!, (c) => migrate(c));
      const first = await withDb(names[2]!, (c) => migrate(c, { dir })).catch((e: unknown) => e);
      expect((first as Error).message).toMatch(
        /^migration 29991231000000_broken failed: function no_such_function/,
      );
      const half = await withDb(names[2]!, (c) => c.query(`SELECT to_regclass('"Half"') AS t`));
      expect(half.rows[0].t).toBeNull();
      const again = await withDb(names[2]!, (c) => migrate(c, { dir })).catch((e: unknown) => e);
      expect((again as Error).message).toContain(
        'prisma migrate resolve --rolled-back 29991231000000_broken',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a function body with semicolons ($$ … $$) is applied whole, as one script', async () => {
    const fn = await withDb(names[1]!, (c) =>
      c.query(`SELECT 1 FROM pg_proc WHERE proname = 'conduit_record_webhook_delivery'`),
    );
    expect(fn.rowCount).toBe(1);
  });
});
