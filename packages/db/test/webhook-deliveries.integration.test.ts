import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@conduit/testing';
import { createDb, WebhookDeliveryRepository, type Db } from '../src/index.ts';

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

const delivery = (deliveryId: string) => ({
  provider: 'fathom' as const,
  deliveryId,
  sentAt: new Date(),
  payload: { recording_id: 1, title: 'Weekly' },
  connectionId: null,
  status: 'unmatched' as const,
});

describe('WebhookDeliveryRepository.record', () => {
  it('stores a new delivery once and recognises it afterwards', async () => {
    const id = `msg_${randomUUID()}`;
    const first = await repo.record(delivery(id), new Date());
    const second = await repo.record(delivery(id), new Date());
    expect(first.stored).toBe(true);
    expect(second).toEqual({ stored: false, delivery: first.delivery });
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
