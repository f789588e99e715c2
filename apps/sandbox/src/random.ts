// Two kinds of randomness: a seeded PRNG for everything that must be reproducible from the
// seed (faults, generated people and meetings, rotation choices), and a bulk pool of
// crypto-random bytes for tokens, which must be unguessable and cheap to mint.
import { randomBytes } from 'node:crypto';

export type Rng = () => number;

/** mulberry32: 32-bit state, good enough statistically for fault shares and fake data. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** FNV-1a, to derive independent streams from one seed and a label. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A PRNG stream of its own per purpose, so one stream's use never shifts another's draws. */
export function seededRng(seed: number, ...labels: readonly (string | number)[]): Rng {
  return mulberry32(hash32(`${seed}:${labels.join(':')}`));
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)] as T;
}

/** An integer in [min, max]. */
export function intBetween(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

const POOL_BYTES = 1 << 16;
let pool = randomBytes(POOL_BYTES);
let offset = 0;

/** `bytes` crypto-random bytes as base64url, taken from a pool refilled 64 KiB at a time. */
export function randomBase64url(bytes: number): string {
  if (offset + bytes > POOL_BYTES) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  const text = pool.toString('base64url', offset, offset + bytes);
  offset += bytes;
  return text;
}

/** `length` crypto-random characters of [A-Za-z0-9] (GitHub and Discord tokens look like this). */
export function randomAlphanumeric(length: number): string {
  const text = randomBase64url(Math.ceil((length * 3) / 4) + 3).slice(0, length);
  return text.includes('-') || text.includes('_') ? text.replace(/[-_]/g, 'x') : text;
}
