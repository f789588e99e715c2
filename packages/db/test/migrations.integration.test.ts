import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '@conduit/testing';

// The run's template database was migrated from empty by our runner (global setup);
// every test database is a clone of it.
let db: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});

afterAll(async () => {
  await client.end();
  await db.drop();
});

describe('migrations', () => {
  it('every committed migration is applied, in order, and completed', async () => {
    const dirs = readdirSync(join(import.meta.dirname, '../../../prisma/migrations'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    const { rows } = await client.query<{ migration_name: string; finished_at: Date | null }>(
      `SELECT migration_name, finished_at FROM _prisma_migrations ORDER BY migration_name`,
    );
    expect(rows.map((r) => r.migration_name)).toEqual(dirs);
    expect(rows.every((r) => r.finished_at !== null)).toBe(true);
  });

  it('create every table of the data model', async () => {
    const { rows } = await client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
    );
    expect(rows.map((r) => r.table_name)).toEqual([
      'Connection',
      'ConnectionEvent',
      'ConnectionWebhook',
      'GrantRevocation',
      'Meeting',
      'Notification',
      'OAuthState',
      'SyncRun',
      'SyncState',
      'Transcript',
      'WebhookDelivery',
      '_prisma_migrations',
    ]);
  });

  it('index what the sweeps query: status + tokenExpiresAt, and owner', async () => {
    const { rows } = await client.query<{ indexdef: string }>(
      `SELECT indexdef FROM pg_indexes WHERE tablename = 'Connection'`,
    );
    const defs = rows.map((r) => r.indexdef).join('\n');
    expect(defs).toContain('(status, "tokenExpiresAt", id)');
    expect(defs).toContain('("ownerId", provider)');
  });
});
