// The two secrets of an authorization request: `state` (32 random bytes, stored only as its
// SHA-256) and, where the provider supports PKCE, an S256 code verifier and its challenge.
import { createHash, randomBytes } from 'node:crypto';

export function newState(): { state: string; stateHash: string } {
  const state = randomBytes(32).toString('base64url');
  return { state, stateHash: hashState(state) };
}

export function hashState(state: string): string {
  return createHash('sha256').update(state, 'utf8').digest('hex');
}

/** RFC 7636: a 43-character verifier and its S256 challenge. */
export function newPkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}
