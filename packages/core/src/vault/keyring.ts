import type { KeyObject } from 'node:crypto';
import { createSecretKey } from 'node:crypto';
import { VaultConfigError } from './errors.ts';

export const KEY_BYTES = 32;
/** Key ids travel inside every ciphertext, between dots: keep them to a safe alphabet. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]+$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const SPEC_NAME = 'CONDUIT_ENCRYPTION_KEYS';
const HOW_TO_GENERATE = `base64 of ${KEY_BYTES} random bytes: openssl rand -base64 ${KEY_BYTES}`;
const SPEC_SHAPE = '"<keyId>:<base64 key>[,<keyId>:<base64 key>…]"';

/**
 * Keys by id. `activeKeyId` encrypts new writes; every key decrypts. Keys are held as
 * `KeyObject`s, which neither `JSON.stringify` nor `util.inspect` reveal.
 */
export interface Keyring {
  readonly activeKeyId: string;
  readonly keys: ReadonlyMap<string, KeyObject>;
}

/**
 * Parses `k2:<base64>,k1:<base64>`: the first entry is the active key, the others stay
 * to decrypt rows written before a rotation. Error messages never echo key material.
 */
export function parseKeyring(spec: string): Keyring {
  if (spec.trim() === '') {
    throw new VaultConfigError(`${SPEC_NAME} is empty; expected ${SPEC_SHAPE} (${HOW_TO_GENERATE})`);
  }
  const keys = new Map<string, KeyObject>();
  const entries = spec.split(',');
  entries.forEach((raw, index) => {
    const entry = raw.trim();
    const position = `entry ${index + 1} of ${entries.length}`;
    if (entry === '') {
      throw new VaultConfigError(
        `${SPEC_NAME}: ${position} is empty (a stray comma?); expected ${SPEC_SHAPE}`,
      );
    }
    const colon = entry.indexOf(':');
    if (colon < 0) {
      throw new VaultConfigError(
        `${SPEC_NAME}: ${position} is not "<keyId>:<base64 key>"; expected ${SPEC_SHAPE}`,
      );
    }
    const id = entry.slice(0, colon).trim();
    const encoded = entry.slice(colon + 1).trim();
    if (id === '') {
      throw new VaultConfigError(
        `${SPEC_NAME}: ${position} has no key id before ":"; expected ${SPEC_SHAPE}`,
      );
    }
    if (!KEY_ID_PATTERN.test(id)) {
      throw new VaultConfigError(
        `${SPEC_NAME}: ${position} has key id ${JSON.stringify(id)}; key ids may only use letters, digits, "_" and "-"`,
      );
    }
    if (keys.has(id)) {
      throw new VaultConfigError(
        `${SPEC_NAME}: key id "${id}" appears twice; give every key its own id (the first entry is the active key)`,
      );
    }
    if (encoded === '' || !BASE64.test(encoded) || encoded.length % 4 !== 0) {
      throw new VaultConfigError(
        `${SPEC_NAME}: key "${id}" is not valid base64; expected ${HOW_TO_GENERATE}`,
      );
    }
    const material = Buffer.from(encoded, 'base64');
    if (material.length !== KEY_BYTES) {
      const length = material.length;
      material.fill(0);
      throw new VaultConfigError(
        `${SPEC_NAME}: key "${id}" is ${length} bytes, expected ${KEY_BYTES} (${HOW_TO_GENERATE})`,
      );
    }
    keys.set(id, createSecretKey(material));
    // createSecretKey copied the bytes; do not leave a second copy on the heap.
    material.fill(0);
  });
  const activeKeyId = keys.keys().next().value;
  if (activeKeyId === undefined)
    throw new VaultConfigError(`${SPEC_NAME} holds no key; expected ${SPEC_SHAPE}`);
  return { activeKeyId, keys };
}
