import { createHmac } from 'node:crypto';

export type UserIdHasher = (userId: string) => string;

/**
 * Logs name users by a keyed hash, never by their id: stable, so one user's lines can be
 * followed; keyed (CONDUIT_LOG_HASH_KEY), so a leaked log cannot be matched to ids by hashing guesses.
 */
export function createUserIdHasher(key: string): UserIdHasher {
  if (key.length === 0) throw new Error('createUserIdHasher: the key is empty; pass CONDUIT_LOG_HASH_KEY');
  return (userId) => `u_${createHmac('sha256', key).update(userId, 'utf8').digest('hex').slice(0, 16)}`;
}

/** The fields that name a connection's owner in a log line: `log.info(ownerLogFields(hash, id), '…')`. */
export function ownerLogFields(hasher: UserIdHasher, ownerId: string): { owner: string } {
  return { owner: hasher(ownerId) };
}
