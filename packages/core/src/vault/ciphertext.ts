import { KEY_ID_PATTERN } from './keyring.ts';
import { VaultDecryptError } from './errors.ts';

/**
 * The stored form: `v1.<keyId>.<iv>.<tag>.<data>`, the last three base64url without
 * padding. The version and key id are authenticated as AAD, so a ciphertext cannot be
 * relabelled to another key id or format version.
 */
export const CIPHERTEXT_VERSION = 'v1';
export const IV_BYTES = 12;
export const TAG_BYTES = 16;

const SHAPE = `"${CIPHERTEXT_VERSION}.<keyId>.<iv>.<tag>.<data>"`;
const VERSION_PATTERN = /^v[0-9]+$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

export interface Envelope {
  readonly keyId: string;
  readonly iv: Buffer;
  readonly tag: Buffer;
  readonly data: Buffer;
}

export function additionalData(keyId: string): Buffer {
  return Buffer.from(`${CIPHERTEXT_VERSION}.${keyId}`, 'utf8');
}

export function formatEnvelope(envelope: Envelope): string {
  const { keyId, iv, tag, data } = envelope;
  return [
    CIPHERTEXT_VERSION,
    keyId,
    iv.toString('base64url'),
    tag.toString('base64url'),
    data.toString('base64url'),
  ].join('.');
}

function malformed(what: string, keyId: string | null = null): VaultDecryptError {
  // The input is never echoed: a caller may hand us a plaintext token by mistake.
  return new VaultDecryptError(
    'malformed',
    `vault: ciphertext is malformed (${what}); expected ${SHAPE} as written by TokenVault.encrypt`,
    keyId,
  );
}

/** Reads version and key id only; enough to route a ciphertext without decrypting it. */
export function readHeader(cipher: string): { readonly keyId: string; readonly parts: readonly string[] } {
  if (typeof cipher !== 'string' || cipher === '') throw malformed('empty or not a string');
  const parts = cipher.split('.');
  const version = parts[0] ?? '';
  if (!VERSION_PATTERN.test(version))
    throw malformed('it does not start with a format version such as "v1."');
  if (version !== CIPHERTEXT_VERSION) {
    throw new VaultDecryptError(
      'unsupported_version',
      `vault: ciphertext format "${version}" is not supported; this build reads "${CIPHERTEXT_VERSION}" — deploy the version that wrote it, or re-encrypt the row`,
    );
  }
  if (parts.length !== 5) throw malformed(`${parts.length} dot-separated parts instead of 5`);
  const keyId = parts[1] ?? '';
  if (!KEY_ID_PATTERN.test(keyId))
    throw malformed('the key id is empty or uses characters other than [A-Za-z0-9_-]');
  return { keyId, parts };
}

function decodePart(value: string, name: string, bytes: number | null, keyId: string): Buffer {
  const decoded = BASE64URL.test(value) ? Buffer.from(value, 'base64url') : null;
  // Round-tripping rejects non-canonical encodings, whose ignored trailing bits would let
  // two different strings open to the same plaintext.
  if (decoded === null || decoded.toString('base64url') !== value)
    throw malformed(`${name} is not base64url`, keyId);
  if (bytes !== null && decoded.length !== bytes) {
    throw malformed(`${name} is ${decoded.length} bytes, expected ${bytes}`, keyId);
  }
  return decoded;
}

export function parseEnvelope(cipher: string): Envelope {
  const { keyId, parts } = readHeader(cipher);
  const [, , iv = '', tag = '', data = ''] = parts;
  return {
    keyId,
    iv: decodePart(iv, 'the IV', IV_BYTES, keyId),
    tag: decodePart(tag, 'the auth tag', TAG_BYTES, keyId),
    data: decodePart(data, 'the data', null, keyId),
  };
}
