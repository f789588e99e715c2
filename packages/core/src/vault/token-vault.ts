import type { KeyObject } from 'node:crypto';
import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import type { Keyring } from './keyring.ts';
import {
  IV_BYTES,
  TAG_BYTES,
  additionalData,
  formatEnvelope,
  parseEnvelope,
  readHeader,
} from './ciphertext.ts';
import { VaultDecryptError } from './errors.ts';

const ALGORITHM = 'aes-256-gcm';
/** IVs are cut from a buffer of random bytes refilled every this many IVs (one RNG call, not one per token) */
const IVS_PER_FILL = 256;

/**
 * Encrypts tokens at rest with AES-256-GCM (DESIGN rule 1). New writes use the keyring's
 * active key; any key in the keyring decrypts, so keys rotate without downtime:
 * put the new key first, re-encrypt rows where `needsReencryption`, then drop the old key.
 */
export class TokenVault {
  readonly #keyring: Keyring;
  readonly #ivs = Buffer.alloc(IV_BYTES * IVS_PER_FILL);
  #ivsUsed = IVS_PER_FILL;

  constructor(keyring: Keyring) {
    if (!keyring.keys.has(keyring.activeKeyId)) {
      throw new TypeError(
        `TokenVault: active key "${keyring.activeKeyId}" is not in the keyring; build it with parseKeyring`,
      );
    }
    this.#keyring = keyring;
  }

  get activeKeyId(): string {
    return this.#keyring.activeKeyId;
  }

  encrypt(plain: string): string {
    if (typeof plain !== 'string') throw new TypeError('TokenVault.encrypt: expected a string to encrypt');
    const keyId = this.#keyring.activeKeyId;
    // A fresh random IV per message: GCM loses confidentiality and integrity if one repeats.
    const iv = this.#freshIv();
    const cipher = createCipheriv(ALGORITHM, this.#key(keyId), iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(additionalData(keyId));
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return formatEnvelope({ keyId, iv, tag: cipher.getAuthTag(), data });
  }

  /** 12 fresh random bytes, each used once: a copy out of the pool, which is then refilled before reuse. */
  #freshIv(): Buffer {
    if (this.#ivsUsed === IVS_PER_FILL) {
      randomFillSync(this.#ivs);
      this.#ivsUsed = 0;
    }
    const start = this.#ivsUsed++ * IV_BYTES;
    return Buffer.from(this.#ivs.subarray(start, start + IV_BYTES));
  }

  decrypt(cipher: string): string {
    const { keyId, iv, tag, data } = parseEnvelope(cipher);
    const decipher = createDecipheriv(ALGORITHM, this.#key(keyId), iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(additionalData(keyId));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
    } catch {
      // Node's error says only "unable to authenticate data"; ours says what to do.
      throw new VaultDecryptError(
        'tampered',
        `vault: ciphertext under key "${keyId}" failed authentication — it was altered or truncated, or key "${keyId}" is not the key that wrote it; restore the row or the key, or have the user reconnect`,
        keyId,
      );
    }
  }

  /** The key id a ciphertext was written with. Throws `VaultDecryptError` if it cannot be read. */
  keyIdOf(cipher: string): string {
    return readHeader(cipher).keyId;
  }

  /** True when the ciphertext was written with a key other than the active one. */
  needsReencryption(cipher: string): boolean {
    return this.keyIdOf(cipher) !== this.#keyring.activeKeyId;
  }

  /**
   * Decrypts (authenticating) and encrypts again under the active key, with a fresh IV.
   * Always rewrites; a rotation job checks `needsReencryption` first to skip current rows.
   */
  reencrypt(cipher: string): string {
    return this.encrypt(this.decrypt(cipher));
  }

  #key(keyId: string): KeyObject {
    const key = this.#keyring.keys.get(keyId);
    if (key === undefined) {
      const known = [...this.#keyring.keys.keys()].map((id) => `"${id}"`).join(', ');
      throw new VaultDecryptError(
        'unknown_key',
        `vault: ciphertext was written with key "${keyId}", which is not in CONDUIT_ENCRYPTION_KEYS (has ${known}); add key "${keyId}" back to the keyring to read it`,
        keyId,
      );
    }
    return key;
  }
}
