// CONDUIT_API_KEYS: the embedding app's keys for /v1, each named, scoped and stored only as the
// SHA-256 of the key. Several may be listed at once, so a key is rotated by adding the new one,
// moving the app over, then removing the old one. A key with no scopes listed may only read
// connections: least privilege is what you get by saying nothing.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { show } from './kinds.ts';

export const API_SCOPES = [
  /** list and read connections (the safe view: never a token) */
  'connections:read',
  /** read access tokens, and call providers through the proxy (which is the same power) */
  'tokens:read',
  /** start a connect flow, disconnect, ask for a sync */
  'connections:write',
  /** read synced meetings, transcripts and summaries */
  'meetings:read',
] as const;
export type ApiScope = (typeof API_SCOPES)[number];

export const DEFAULT_API_SCOPES: readonly ApiScope[] = ['connections:read'];

export interface ApiKey {
  /** shown in logs as the caller; not secret */
  readonly name: string;
  readonly scopes: readonly ApiScope[];
  /** lowercase hex SHA-256 of the key */
  readonly sha256: string;
}

export const sha256Hex = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

/** The key published as the development default; production refuses any entry holding it. */
export const DEVELOPMENT_API_KEY = 'dev-api-key';

/** What the development default is made of: every scope, so the quick start can do everything. */
export const DEVELOPMENT_API_KEYS = `dev:${API_SCOPES.join('+')}:${sha256Hex(DEVELOPMENT_API_KEY)}`;

export const API_KEYS_HOW_TO_SET =
  'set it to name:scope+scope:sha256hex entries separated by commas, e.g. ' +
  'backend:connections:read+tokens:read:$(printf %s "$KEY" | sha256sum | cut -d" " -f1) ' +
  `with KEY=$(openssl rand -hex 32); scopes: ${API_SCOPES.join(', ')}`;

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const HEX64 = /^[0-9a-f]{64}$/;

/** `name:scopes:sha256hex` (scopes joined by "+"), or `name:sha256hex` for connections:read only. */
export function apiKeyEntries() {
  return z.string().transform((raw, ctx): ApiKey[] => {
    const problem = (message: string) => ctx.issues.push({ code: 'custom', message, input: raw });
    const list = raw
      .split(',')
      .map((e) => e.trim())
      .filter((e) => e !== '');
    if (list.length === 0) problem(`has no keys; ${API_KEYS_HOW_TO_SET}`);
    const keys: ApiKey[] = [];
    list.forEach((entry, i) => {
      const which = `entry ${i + 1}`;
      const first = entry.indexOf(':');
      const last = entry.lastIndexOf(':');
      if (first === -1) {
        // Never echo it: a bare entry is most likely a key pasted in clear.
        problem(
          `${which} is not name:scopes:sha256hex (keys are stored hashed, never in clear); ${API_KEYS_HOW_TO_SET}`,
        );
        return;
      }
      const name = entry.slice(0, first);
      const sha256 = entry.slice(last + 1).toLowerCase();
      const scopeText = first === last ? '' : entry.slice(first + 1, last);
      if (!NAME.test(name)) {
        problem(`${which} has the name ${show(name)}; expected 1–64 letters, digits, "_", "." or "-"`);
        return;
      }
      if (!HEX64.test(sha256)) {
        problem(
          `key "${name}" does not end in the 64 hex digits of the key's SHA-256 (printf %s "$KEY" | sha256sum)`,
        );
        return;
      }
      const scopes = scopeText === '' ? [...DEFAULT_API_SCOPES] : scopeText.split('+').map((s) => s.trim());
      const unknown = scopes.filter((s) => !(API_SCOPES as readonly string[]).includes(s));
      if (unknown.length > 0) {
        problem(
          `key "${name}" has the unknown scope ${show(unknown[0])}; expected some of ${API_SCOPES.join(', ')} joined by "+"`,
        );
        return;
      }
      if (keys.some((k) => k.sha256 === sha256)) {
        problem(`key "${name}" repeats the hash of an earlier entry; list each key once`);
        return;
      }
      keys.push({ name, scopes: [...new Set(scopes)] as ApiScope[], sha256 });
    });
    return keys;
  });
}
