/** The keyring spec (`CONDUIT_ENCRYPTION_KEYS`) is unusable; raised at startup. */
export class VaultConfigError extends Error {
  override readonly name = 'VaultConfigError';
}

export type VaultDecryptFailure = 'malformed' | 'unsupported_version' | 'unknown_key' | 'tampered';

/**
 * A ciphertext could not be opened. Carries the reason and, when it could be read, the
 * key id — never the ciphertext, the plaintext or key material, so it is safe to log.
 */
export class VaultDecryptError extends Error {
  override readonly name = 'VaultDecryptError';
  readonly reason: VaultDecryptFailure;
  readonly keyId: string | null;

  constructor(reason: VaultDecryptFailure, message: string, keyId: string | null = null) {
    super(message);
    this.reason = reason;
    this.keyId = keyId;
  }
}
