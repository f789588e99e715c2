import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '@conduit/testing';
import { createRedis } from '../src/redis.ts';
import { RescueSlotError, RescueSlots } from '../src/refresh/rescue.ts';

const redis = createRedis(TEST_REDIS_URL);
const prefix = `ctest:{rescue-${randomUUID().slice(0, 8)}}:rescue`;
afterAll(() => redis.quit());

const tokens = (n: number) => ({
  accessTokenEnc: `v1.enc-${n}`,
  refreshTokenEnc: `v1.rt-${n}`,
  tokenExpiresAt: new Date(Date.UTC(2026, 11, 2)),
});

describe('rescue slots', () => {
  it('keeps an answer under its connection and version until it is dropped', async () => {
    const slots = new RescueSlots(redis, prefix, 60_000, 1_000);
    const id = randomUUID();
    await slots.put(id, 3, tokens(1));
    expect(await slots.get(id, 3)).toEqual(tokens(1));
    expect(await slots.get(id, 4)).toBeNull();
    expect(await redis.pttl(slots.keyFor(id, 3))).toBeGreaterThan(59_000);
  });

  it('the slots dropped in one turn of the event loop go in one DEL, and are gone', async () => {
    const slots = new RescueSlots(redis, prefix, 60_000, 1_000);
    const ids = Array.from({ length: 7 }, () => randomUUID());
    await Promise.all(ids.map((id, i) => slots.put(id, 1, tokens(i))));
    const del = redis.del.bind(redis);
    const calls: number[] = [];
    redis.del = ((...keys: string[]) => (calls.push(keys.length), del(...keys))) as typeof redis.del;
    try {
      for (const id of ids) slots.drop(id, 1);
      for (let i = 0; i < 50 && calls.length === 0; i++) await sleep(10);
      await sleep(20);
    } finally {
      redis.del = del;
    }
    expect(calls).toEqual([7]);
    expect(await redis.exists(...ids.map((id) => slots.keyFor(id, 1)))).toBe(0);
  });

  it('a read says so when Redis cannot answer, rather than reporting an empty slot', async () => {
    const down = createRedis('redis://127.0.0.1:1', {
      lazyConnect: true,
      enableOfflineQueue: true,
      retryStrategy: () => null,
    });
    const slots = new RescueSlots(down, prefix, 60_000, 200);
    down.on('error', () => undefined);
    await expect(slots.get(randomUUID(), 1)).rejects.toBeInstanceOf(RescueSlotError);
    down.disconnect();
  });
});
