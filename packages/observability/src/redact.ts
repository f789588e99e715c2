// Secrets are removed before a log line is serialised, in every format. Keys are covered at the
// top level and one and two levels deep, which is where tokens and credentials sit in our log
// objects (`{ tokens: { accessToken } }`, `{ err: { response: { … } } }`).
//
// The keys are looked up in a set while the object is walked (redactSecrets): an object with
// nothing to hide is passed through untouched, and one with a secret is copied, never changed in
// place. pino's own path-based redaction (`redact`) costs a wildcard match per property of every
// line when paths start with `*`, which was a tenth of a worker's CPU per refresh
// (docs/benchmarks.md); it is kept for the fixed header paths below, which serializers (Fastify's
// `req`/`res`) produce after the walk.

export const REDACTED = '[redacted]';

export const SECRET_KEYS = [
  'accessToken',
  'refreshToken',
  'access_token',
  'refresh_token',
  'token',
  'idToken',
  'id_token',
  'clientSecret',
  'client_secret',
  'password',
  'secret',
  'code_verifier',
  'codeVerifier',
  'apiKey',
  'authorization',
  'cookie',
] as const;

/** Header paths censored after serialization too (fixed paths: a lookup per line, no wildcard match). */
export const HEADER_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  'headers["set-cookie"]',
] as const;

/** Every path the logger censors (pino redact syntax); the tests log a secret at each one. */
export const REDACT_PATHS: readonly string[] = Object.freeze([
  ...SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]),
  ...HEADER_PATHS,
]);

const SECRET = new Set<string>([...SECRET_KEYS, 'x-api-key', 'set-cookie']);

/**
 * `value` with every secret key in it, and in its values `levels` deep, replaced by REDACTED.
 * Returns `value` itself when there is nothing to replace; a copy (same prototype) otherwise.
 */
export function redactSecrets<T>(value: T, levels = 2): T {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return value;
  const source = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(source)) {
    const v = source[key];
    let next = v;
    if (SECRET.has(key)) {
      if (v !== undefined) next = REDACTED;
    } else if (levels > 0 && typeof v === 'object' && v !== null) {
      next = redactSecrets(v, levels - 1);
    }
    if (next !== v) {
      copy ??= Array.isArray(source)
        ? ([...source] as unknown as Record<string, unknown>)
        : Object.assign(Object.create(Object.getPrototypeOf(source) as object | null) as object, source);
      copy[key] = next;
    }
  }
  return (copy ?? value) as T;
}
