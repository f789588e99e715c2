export { TokenVault } from './token-vault.ts';
export { KEY_BYTES, KEY_ID_PATTERN, parseKeyring } from './keyring.ts';
export type { Keyring } from './keyring.ts';
export { CIPHERTEXT_VERSION } from './ciphertext.ts';
export { VaultConfigError, VaultDecryptError } from './errors.ts';
export type { VaultDecryptFailure } from './errors.ts';
