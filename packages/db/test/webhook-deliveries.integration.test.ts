import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@conduit/testing';
import { createDb, WebhookDeliveryRepository, type Db, type NewDelivery } from '../src/index.ts';

// Redeliveries race: Fathom retries while the first attempt is still being stored, and a load
// balancer may hand the same delivery to two api processes. Every one of them must get an answer.
let database: TestDatabase;
let db: Db;
let repo: WebhookDeliveryRepository;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb({ databaseUrl: database.url, poolSize: 16 });
  repo = new WebhookDeliveryRepository(db);
});

afterAll(async () => {
  await db.$disconnect();
  await database.drop();
});

const delivery = (deliveryId: string, account: NewDelivery['account'] = null): NewDelivery => ({
  provider: 'fathom',
  deliveryId,
  sentAt: new Date(),
  body: Buffer.from(JSON.stringify({ recording_id: 1, title: 'Weekly' })),
  account,
});

async function connection(email: string, status: string, changedSecondsAgo: number): Promise<string> {
  const [row] = await db.$queryRaw<[{ id: string }]>`
    INSERT INTO "Connection" (id, "ownerId", provider, status, "externalEmail", "statusChangedAt", "updatedAt")
    VALUES (gen_random_uuid(), ${`owner-${randomUUID()}`}, 'fathom', ${status}::"ConnectionStatus", ${email},
            now() - make_interval(secs => ${changedSecondsAgo}), now())
    RETURNING id`;
  return row.id;
}

describe('WebhookDeliveryRepository.record', () => {
  it('stores a new delivery once and recognises it afterwards', async () => {
    const id = `msg_${randomUUID()}`;
    const first = await repo.record(delivery(id), new Date());
    const second = await repo.record(delivery(id), new Date());
    expect(first.stored).toBe(true);
    expect(second).toEqual({ stored: false, delivery: first.delivery });
  });

  it('matches the account by email in the same statement: connected first, then the latest change', async () => {
    const email = `${randomUUID()}@acme.test`;
    const none = await repo.record(delivery(`msg_${randomUUID()}`, { email }), new Date());
    expect(none).toMatchObject({ stored: true, delivery: { status: 'unmatched', connectionId: null } });

    const old = await connection(email, 'needs_reauth', 600);
    const newer = await connection(email, 'disconnected', 60);
    const latest = await repo.record(
      delivery(`msg_${randomUUID()}`, { email: ` ${email.toUpperCase()} ` }),
      new Date(),
    );
    expect(latest.delivery).toMatchObject({ status: 'received', connectionId: newer });

    const live = await connection(email, 'connected', 3600);
    const matched = await repo.record(delivery(`msg_${randomUUID()}`, { email }), new Date());
    expect(matched.delivery).toMatchObject({ status: 'received', connectionId: live });
    expect([old, newer]).not.toContain(matched.delivery.connectionId);

    const byId = await repo.record(delivery(`msg_${randomUUID()}`, { connectionId: old }), new Date());
    expect(byId.delivery).toMatchObject({ status: 'received', connectionId: old });
  });

  it('answers every one of 16 concurrent copies of a delivery, storing exactly one, round after round', async () => {
    for (let round = 0; round < 40; round += 1) {
      const id = `msg_${randomUUID()}`;
      const results = await Promise.all(
        Array.from({ length: 16 }, () => repo.record(delivery(id), new Date())),
      );
      expect(results.filter((r) => r.stored)).toHaveLength(1);
      expect(new Set(results.map((r) => r.delivery.id)).size).toBe(1);
      expect(await db.webhookDelivery.count({ where: { deliveryId: id } })).toBe(1);
    }
  });
});
