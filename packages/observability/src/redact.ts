// Secrets are removed by path before a log line is serialised, in every format. Keys are
// covered at the top level and one and two levels deep, which is where tokens and
// credentials sit in our log objects (`{ tokens: { accessToken } }`, `{ err: { response: { … } } }`).

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

const HEADER_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  'headers["set-cookie"]',
] as const;

/** Every path pino's `redact` censors; the tests log a secret at each one. */
export const REDACT_PATHS: readonly string[] = Object.freeze([
  ...SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]),
  ...HEADER_PATHS,
]);
