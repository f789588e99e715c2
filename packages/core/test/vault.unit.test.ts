import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TokenVault, VaultConfigError, VaultDecryptError, parseKeyring } from '../src/vault/index.ts';

// Fixed test keys (base64 of 32 bytes); never used outside tests.
const K1 = Buffer.alloc(32, 1).toString('base64');
const K2 = Buffer.alloc(32, 2).toString('base64');
const K3 = Buffer.alloc(32, 3).toString('base64');
const SECRET = 'ya29.a0AfH6SMBx-very-secret-access-token';

function vault(spec: string): TokenVault {
  return new TokenVault(parseKeyring(spec));
}

function parts(cipher: string): string[] {
  return cipher.split('.');
}

/** Flips one bit inside the decoded bytes of part `index`, keeping the encoding canonical. */
function flipBit(cipher: string, index: 2 | 3 | 4, byte = 0): string {
  const p = parts(cipher);
  const bytes = Buffer.from(p[index] ?? '', 'base64url');
  bytes[byte] = (bytes[byte] ?? 0) ^ 0x01;
  p[index] = bytes.toString('base64url');
  return p.join('.');
}

function decryptError(v: TokenVault, cipher: string): VaultDecryptError {
  try {
    v.decrypt(cipher);
  } catch (error) {
    if (error instanceof VaultDecryptError) return error;
    throw error;
  }
  throw new Error('expected decrypt to fail');
}

describe('vault › encryption', () => {
  it('a token round-trips through encrypt and decrypt', () => {
    const v = vault(`k1:${K1}`);
    expect(v.decrypt(v.encrypt(SECRET))).toBe(SECRET);
  });

  it('empty and non-ASCII strings round-trip too', () => {
    const v = vault(`k1:${K1}`);
    for (const plain of ['', 'é€𝄞 токен', 'x'.repeat(10_000)])
      expect(v.decrypt(v.encrypt(plain))).toBe(plain);
  });

  it('the ciphertext reads v1.<keyId>.<iv>.<tag>.<data> with a 12-byte IV and a 16-byte tag', () => {
    const cipher = vault(`k1:${K1}`).encrypt(SECRET);
    const [version, keyId, iv = '', tag = '', data = ''] = parts(cipher);
    expect(parts(cipher)).toHaveLength(5);
    expect(version).toBe('v1');
    expect(keyId).toBe('k1');
    expect(Buffer.from(iv, 'base64url')).toHaveLength(12);
    expect(Buffer.from(tag, 'base64url')).toHaveLength(16);
    expect(Buffer.from(data, 'base64url')).toHaveLength(Buffer.byteLength(SECRET));
    expect(cipher).not.toContain(SECRET);
  });

  it('encrypting the same token twice gives different ciphertexts (fresh IV each time)', () => {
    const v = vault(`k1:${K1}`);
    expect(v.encrypt(SECRET)).not.toBe(v.encrypt(SECRET));
  });
});

describe('vault › tampering', () => {
  const v = vault(`k1:${K1}`);
  const cipher = v.encrypt(SECRET);

  it.each([
    ['IV', 2],
    ['auth tag', 3],
    ['ciphertext data', 4],
  ] as const)('a flipped bit in the %s is rejected as tampered', (_, index) => {
    expect(decryptError(v, flipBit(cipher, index)).reason).toBe('tampered');
  });

  it('a flipped bit in the last byte of the data is rejected as tampered', () => {
    expect(decryptError(v, flipBit(cipher, 4, Buffer.byteLength(SECRET) - 1)).reason).toBe('tampered');
  });

  it('truncated data is rejected as tampered', () => {
    const p = parts(cipher);
    p[4] = Buffer.from(p[4] ?? '', 'base64url')
      .subarray(0, 5)
      .toString('base64url');
    expect(decryptError(v, p.join('.')).reason).toBe('tampered');
  });

  it('a ciphertext relabelled to another key id cannot be opened, even if that key is the same bytes', () => {
    const twins = vault(`k1:${K1},k9:${K1}`);
    const relabelled = cipher.replace(/^v1\.k1\./, 'v1.k9.');
    const error = decryptError(twins, relabelled);
    expect(error.reason).toBe('tampered');
    expect(error.keyId).toBe('k9');
  });

  it('a ciphertext opened with the wrong key bytes under its id is rejected as tampered', () => {
    expect(decryptError(vault(`k1:${K2}`), cipher).reason).toBe('tampered');
  });

  it('the tampered message names the key id and says what to do', () => {
    expect(decryptError(v, flipBit(cipher, 3)).message).toBe(
      'vault: ciphertext under key "k1" failed authentication — it was altered or truncated, or key "k1" is not the key that wrote it; restore the row or the key, or have the user reconnect',
    );
  });
});

describe('vault › key rotation', () => {
  it('rows written under k1 still decrypt after rotating to "k2,k1", while new writes use k2', () => {
    const before = vault(`k1:${K1}`);
    const oldRow = before.encrypt(SECRET);

    const after = vault(`k2:${K2},k1:${K1}`);
    expect(after.activeKeyId).toBe('k2');
    expect(after.decrypt(oldRow)).toBe(SECRET);
    const newRow = after.encrypt(SECRET);
    expect(after.keyIdOf(newRow)).toBe('k2');
    expect(after.decrypt(newRow)).toBe(SECRET);
  });

  it('needsReencryption is true only for rows under a key other than the active one', () => {
    const oldRow = vault(`k1:${K1}`).encrypt(SECRET);
    const after = vault(`k2:${K2},k1:${K1}`);
    expect(after.needsReencryption(oldRow)).toBe(true);
    expect(after.needsReencryption(after.encrypt(SECRET))).toBe(false);
  });

  it('reencrypt moves a row to the active key, and the old key can then be dropped', () => {
    const oldRow = vault(`k1:${K1}`).encrypt(SECRET);
    const rotated = vault(`k2:${K2},k1:${K1}`).reencrypt(oldRow);
    expect(parts(rotated)[1]).toBe('k2');
    expect(vault(`k2:${K2}`).decrypt(rotated)).toBe(SECRET);
  });

  it('reencrypt refuses a tampered row instead of laundering it', () => {
    const v = vault(`k2:${K2},k1:${K1}`);
    const tampered = flipBit(vault(`k1:${K1}`).encrypt(SECRET), 4);
    expect(() => v.reencrypt(tampered)).toThrow(expect.objectContaining({ reason: 'tampered' }));
  });

  it('a row under a key id missing from the keyring fails as unknown_key, naming the id and the fix', () => {
    const row = vault(`k0:${K3}`).encrypt(SECRET);
    const error = decryptError(vault(`k2:${K2},k1:${K1}`), row);
    expect(error.reason).toBe('unknown_key');
    expect(error.keyId).toBe('k0');
    expect(error.message).toBe(
      'vault: ciphertext was written with key "k0", which is not in CONDUIT_ENCRYPTION_KEYS (has "k2", "k1"); add key "k0" back to the keyring to read it',
    );
  });
});

describe('vault › malformed ciphertexts', () => {
  const v = vault(`k1:${K1}`);
  const good = parts(v.encrypt(SECRET));
  const [, , iv = '', tag = '', data = ''] = good;

  it.each([
    ['an empty string', ''],
    ['a plaintext token stored by mistake', SECRET],
    ['too few parts', `v1.k1.${iv}.${tag}`],
    ['too many parts', `v1.k1.${iv}.${tag}.${data}.extra`],
    ['an empty key id', `v1..${iv}.${tag}.${data}`],
    ['a key id with forbidden characters', `v1.k/1.${iv}.${tag}.${data}`],
    ['an IV that is not base64url', `v1.k1.${iv.slice(0, -1)}+.${tag}.${data}`],
    ['an IV of the wrong length', `v1.k1.${iv}AAAA.${tag}.${data}`],
    ['a tag of the wrong length', `v1.k1.${iv}.${tag.slice(0, 8)}.${data}`],
    ['base64url with padding', `v1.k1.${iv}.${tag}==.${data}`],
    [
      'a non-canonical base64url tag (stray trailing bits)',
      `v1.k1.${iv}.${tag.slice(0, -1)}${tag.endsWith('B') ? 'C' : 'B'}.${data}`,
    ],
  ])('%s is rejected as malformed', (_, cipher) => {
    expect(decryptError(v, cipher).reason).toBe('malformed');
  });

  it('a non-string input is rejected as malformed, not with a TypeError', () => {
    expect(decryptError(v, 42 as unknown as string).reason).toBe('malformed');
  });

  it('an unknown format version is rejected as unsupported_version', () => {
    const error = decryptError(v, `v2.k1.${iv}.${tag}.${data}`);
    expect(error.reason).toBe('unsupported_version');
    expect(error.message).toContain('"v2" is not supported');
  });

  it('needsReencryption and keyIdOf reject malformed input the same way', () => {
    expect(() => v.needsReencryption('garbage')).toThrow(VaultDecryptError);
    expect(() => v.keyIdOf('v1.k1')).toThrow(expect.objectContaining({ reason: 'malformed' }));
  });

  it('the malformed message says what was expected', () => {
    expect(decryptError(v, `v1.k1.${iv}.${tag}`).message).toBe(
      'vault: ciphertext is malformed (4 dot-separated parts instead of 5); expected "v1.<keyId>.<iv>.<tag>.<data>" as written by TokenVault.encrypt',
    );
  });
});

describe('vault › secrets never leak through errors', () => {
  const v = vault(`k1:${K1}`);
  const cipher = v.encrypt(SECRET);
  const [, , iv = '', tag = '', data = ''] = parts(cipher);

  const failures: Array<[string, () => unknown]> = [
    ['tampered', () => v.decrypt(flipBit(cipher, 4))],
    ['unknown key', () => vault(`k2:${K2}`).decrypt(cipher)],
    ['malformed plaintext passed as ciphertext', () => v.decrypt(SECRET)],
    ['malformed parts', () => v.decrypt(`v1.k1.${iv}.${tag}.${data}.${SECRET}`)],
    ['unsupported version', () => v.decrypt(`v7.${SECRET}`)],
  ];

  it.each(failures)(
    'a %s error carries no plaintext or key material in message, JSON or inspect',
    (_, fail) => {
      let caught: unknown;
      try {
        fail();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(VaultDecryptError);
      const rendered = [
        (caught as Error).message,
        String(caught),
        JSON.stringify(caught),
        inspect(caught, { depth: 10, showHidden: true }),
      ].join('\n');
      expect(rendered).not.toContain(SECRET);
      expect(rendered).not.toContain(K1);
      expect(rendered).not.toContain(K2);
    },
  );

  it('the keyring and the vault do not reveal key material when logged', () => {
    const keyring = parseKeyring(`k1:${K1}`);
    const rendered = [
      JSON.stringify(keyring),
      inspect(keyring, { depth: 10 }),
      JSON.stringify(v),
      inspect(v),
    ].join('\n');
    expect(rendered).not.toContain(K1);
    expect(rendered).not.toContain(Buffer.alloc(32, 1).toString('hex'));
  });
});

describe('vault › keyring spec', () => {
  function configError(spec: string): string {
    try {
      parseKeyring(spec);
    } catch (error) {
      expect(error).toBeInstanceOf(VaultConfigError);
      return (error as Error).message;
    }
    throw new Error('expected parseKeyring to fail');
  }

  it('the first key is active and every key is kept, in order', () => {
    const keyring = parseKeyring(`k2:${K2}, k1:${K1}`);
    expect(keyring.activeKeyId).toBe('k2');
    expect([...keyring.keys.keys()]).toEqual(['k2', 'k1']);
  });

  it('ids may use letters, digits, "_" and "-"', () => {
    expect(parseKeyring(`2026-11_main:${K1}`).activeKeyId).toBe('2026-11_main');
  });

  it('a key of the wrong size says its size, the expected size and how to make one', () => {
    const short = Buffer.alloc(16, 7).toString('base64');
    expect(configError(`k2:${short},k1:${K1}`)).toBe(
      'CONDUIT_ENCRYPTION_KEYS: key "k2" is 16 bytes, expected 32 (base64 of 32 random bytes: openssl rand -base64 32)',
    );
  });

  it.each([
    [
      'an empty spec',
      '',
      'CONDUIT_ENCRYPTION_KEYS is empty; expected "<keyId>:<base64 key>[,<keyId>:<base64 key>…]" (base64 of 32 random bytes: openssl rand -base64 32)',
    ],
    ['a blank spec', '   ', 'CONDUIT_ENCRYPTION_KEYS is empty'],
    [
      'a duplicate id',
      `k1:${K1},k1:${K2}`,
      'CONDUIT_ENCRYPTION_KEYS: key id "k1" appears twice; give every key its own id (the first entry is the active key)',
    ],
    [
      'an id with a dot',
      `k.1:${K1}`,
      'CONDUIT_ENCRYPTION_KEYS: entry 1 of 1 has key id "k.1"; key ids may only use letters, digits, "_" and "-"',
    ],
    ['an id with a space', `my key:${K1}`, 'key ids may only use letters, digits, "_" and "-"'],
    [
      'an entry without a colon',
      `k1:${K1},${K2}`,
      'CONDUIT_ENCRYPTION_KEYS: entry 2 of 2 is not "<keyId>:<base64 key>"',
    ],
    ['an entry without an id', `:${K1}`, 'CONDUIT_ENCRYPTION_KEYS: entry 1 of 1 has no key id before ":"'],
    ['an entry without a key', 'k1:', 'CONDUIT_ENCRYPTION_KEYS: key "k1" is not valid base64'],
    ['a stray comma', `k1:${K1},`, 'CONDUIT_ENCRYPTION_KEYS: entry 2 of 2 is empty (a stray comma?)'],
    [
      'a key that is not base64',
      'k1:not*base64!',
      'CONDUIT_ENCRYPTION_KEYS: key "k1" is not valid base64; expected base64 of 32 random bytes',
    ],
  ])('%s is refused with a clear message', (_, spec, message) => {
    expect(configError(spec)).toContain(message);
  });

  it('config errors never echo key material', () => {
    const message = configError(`k1:${K1},${K2}`);
    expect(message).not.toContain(K1);
    expect(message).not.toContain(K2);
  });
});
