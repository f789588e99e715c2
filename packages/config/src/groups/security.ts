import {
  API_KEYS_HOW_TO_SET,
  apiKeyEntries,
  DEVELOPMENT_API_KEY,
  DEVELOPMENT_API_KEYS,
  sha256Hex,
  type ApiKey,
} from '../api-keys.ts';
import { encryptionKeys, operators, secretText, url, webhookSecret } from '../kinds.ts';
import type { EncryptionKey, Operator } from '../kinds.ts';
import { optionalVariable, variable } from '../variable.ts';
import type { EnvReader } from '../variable.ts';

const PRODUCTION = 'NODE_ENV=production';
const WHSEC_HOW =
  'set it to "whsec_" followed by base64 of 32 random bytes (echo whsec_$(openssl rand -base64 32))';

export const CONDUIT_ENCRYPTION_KEYS = variable({
  name: 'CONDUIT_ENCRYPTION_KEYS',
  group: 'security',
  description:
    'Token encryption keys as id:base64 pairs, comma-separated. The first encrypts; all decrypt, so a new key goes first and an old one stays until re-encryption is done.',
  schema: encryptionKeys('set it to "k1:<base64 of 32 random bytes>" (openssl rand -base64 32)'),
  // base64 of "conduit-dev-only-key-NOT-SECRET!" (32 bytes)
  development: 'dev:Y29uZHVpdC1kZXYtb25seS1rZXktTk9ULVNFQ1JFVCE=',
  requiredWhen: PRODUCTION,
  howToSet: 'set it to "k1:<base64 of 32 random bytes>" (openssl rand -base64 32)',
  secret: true,
});

export const CONDUIT_LOG_HASH_KEY = variable({
  name: 'CONDUIT_LOG_HASH_KEY',
  group: 'security',
  description: 'HMAC key that turns user ids into the pseudonyms written to logs (at least 16 characters).',
  schema: secretText(16, 'set it to a random string (openssl rand -base64 32)'),
  development: 'conduit-dev-only-log-hash-key',
  requiredWhen: PRODUCTION,
  howToSet: 'set it to a random string of at least 16 characters (openssl rand -base64 32)',
  secret: true,
});

export const CONDUIT_API_KEYS = variable({
  name: 'CONDUIT_API_KEYS',
  group: 'security',
  description:
    'API keys the embedding app presents (Authorization: Bearer <key>) to call /v1, as name:scope+scope:sha256hex entries, comma-separated: only the SHA-256 of each key is stored. Scopes: connections:read, tokens:read, connections:write, meetings:read; an entry without scopes (name:sha256hex) may only read connections. List the old and the new key while rotating. The development default is the key dev-api-key with every scope.',
  schema: apiKeyEntries(),
  development: DEVELOPMENT_API_KEYS,
  requiredWhen: PRODUCTION,
  howToSet: API_KEYS_HOW_TO_SET,
  secret: true,
});

export const CONDUIT_OPERATORS = variable({
  name: 'CONDUIT_OPERATORS',
  group: 'security',
  description:
    'Operators allowed into Bull Board and the health page (basic auth), as name:role:password, comma-separated; role is admin or viewer.',
  schema: operators('set it to name:role:password entries, e.g. alice:admin:<openssl rand -base64 24>'),
  development: 'admin:admin:admin,viewer:viewer:viewer',
  requiredWhen: PRODUCTION,
  howToSet: 'set it to name:role:password entries, e.g. alice:admin:<openssl rand -base64 24>',
  secret: true,
});

export const CONDUIT_FATHOM_WEBHOOK_SECRET = optionalVariable({
  name: 'CONDUIT_FATHOM_WEBHOOK_SECRET',
  group: 'security',
  description:
    'Secret of the one operator-registered Fathom webhook (whsec_…), for deliveries to /v1/webhooks/fathom; unsigned or mis-signed ones are refused. Per-connection webhooks have secrets of their own (CONDUIT_FATHOM_WEBHOOK_MODE).',
  schema: webhookSecret(WHSEC_HOW),
  // base64 of "conduit-dev-only-fathom-webhook-secret"
  development: 'whsec_Y29uZHVpdC1kZXYtb25seS1mYXRob20td2ViaG9vay1zZWNyZXQ=',
  requiredWhen:
    'Fathom is enabled (CONDUIT_FATHOM_CLIENT_ID is set) and CONDUIT_FATHOM_WEBHOOK_MODE is operator',
  howToSet: "set it to the signing secret of Fathom's webhook (whsec_…)",
  secret: true,
});

export const CONDUIT_NOTIFY_URL = optionalVariable({
  name: 'CONDUIT_NOTIFY_URL',
  group: 'security',
  description:
    "The embedding app's webhook receiver: connection changes (e.g. needs_reauth) are POSTed there, signed. Unset: none are sent.",
  schema: url({
    protocols: ['http', 'https'],
    noun: 'an HTTP URL',
    example: 'https://app.example.com/webhooks/conduit',
  }),
});

export const CONDUIT_NOTIFY_SECRET = optionalVariable({
  name: 'CONDUIT_NOTIFY_SECRET',
  group: 'security',
  description:
    'Secret that notifications to CONDUIT_NOTIFY_URL are signed with (whsec_…, Standard Webhooks).',
  schema: webhookSecret(WHSEC_HOW),
  // base64 of "conduit-dev-only-notify-secret"
  development: 'whsec_Y29uZHVpdC1kZXYtb25seS1ub3RpZnktc2VjcmV0',
  requiredWhen: 'CONDUIT_NOTIFY_URL is set',
  howToSet: WHSEC_HOW,
  secret: true,
});

export const CONDUIT_METRICS_TOKEN = optionalVariable({
  name: 'CONDUIT_METRICS_TOKEN',
  group: 'security',
  description:
    "Bearer token Prometheus must present to scrape the api's /metrics (Authorization: Bearer <token>). Unset: /metrics is open, as suits development.",
  schema: secretText(16, 'set it to a random string of at least 16 characters (openssl rand -hex 32)'),
  howToSet: 'set it to a random string of at least 16 characters (openssl rand -hex 32)',
  secret: true,
});

export const securityVariables = [
  CONDUIT_ENCRYPTION_KEYS,
  CONDUIT_LOG_HASH_KEY,
  CONDUIT_API_KEYS,
  CONDUIT_OPERATORS,
  CONDUIT_FATHOM_WEBHOOK_SECRET,
  CONDUIT_NOTIFY_URL,
  CONDUIT_NOTIFY_SECRET,
  CONDUIT_METRICS_TOKEN,
];

export interface SecurityConfig {
  /** The first key is the active one. */
  readonly encryptionKeys: readonly EncryptionKey[];
  readonly logHashKey: string;
  /** every key that may call /v1, each with its scopes */
  readonly apiKeys: readonly ApiKey[];
  readonly operators: readonly Operator[];
  /** Set whenever Fathom is enabled in operator webhook mode; optional in per-connection mode. */
  readonly fathomWebhookSecret: string | undefined;
  /** Where and how to send notifications; undefined when CONDUIT_NOTIFY_URL is unset. */
  readonly notify: { readonly url: string; readonly secret: string } | undefined;
  /** required of /metrics scrapes when set */
  readonly metricsToken: string | undefined;
}

export function readSecurity(
  r: EnvReader,
  {
    fathomEnabled,
    fathomWebhookMode,
  }: { fathomEnabled: boolean; fathomWebhookMode: 'per_connection' | 'operator' },
): SecurityConfig {
  const encryptionKeys = r.read(CONDUIT_ENCRYPTION_KEYS);
  const logHashKey = r.read(CONDUIT_LOG_HASH_KEY);
  const apiKeys = r.read(CONDUIT_API_KEYS);
  if (r.nodeEnv === 'production' && apiKeys?.some((k) => k.sha256 === sha256Hex(DEVELOPMENT_API_KEY))) {
    r.problem(
      CONDUIT_API_KEYS,
      `holds the hash of the development key "${DEVELOPMENT_API_KEY}", which is public; in production ${API_KEYS_HOW_TO_SET}`,
    );
  }
  const operators = r.read(CONDUIT_OPERATORS);
  const fathomWebhookSecret = r.read(CONDUIT_FATHOM_WEBHOOK_SECRET);
  const notifyUrl = r.read(CONDUIT_NOTIFY_URL);
  const notifySecret = r.read(CONDUIT_NOTIFY_SECRET);
  const needsGlobalSecret = fathomEnabled && fathomWebhookMode === 'operator';
  if (needsGlobalSecret && fathomWebhookSecret === undefined && !r.failed(CONDUIT_FATHOM_WEBHOOK_SECRET)) {
    r.require(CONDUIT_FATHOM_WEBHOOK_SECRET);
  }
  if (notifyUrl !== undefined && notifySecret === undefined && !r.failed(CONDUIT_NOTIFY_SECRET)) {
    r.require(CONDUIT_NOTIFY_SECRET);
  }
  const notify =
    notifyUrl !== undefined && notifySecret !== undefined
      ? { url: notifyUrl, secret: notifySecret }
      : undefined;
  const metricsToken = r.read(CONDUIT_METRICS_TOKEN);
  return { encryptionKeys, logHashKey, apiKeys, operators, fathomWebhookSecret, notify, metricsToken };
}
