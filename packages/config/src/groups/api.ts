import { appOrigin, host, integer, oneOf, port, url } from '../kinds.ts';
import { fromPort, variable } from '../variable.ts';
import type { EnvReader } from '../variable.ts';

export const CONDUIT_API_HOST = variable({
  name: 'CONDUIT_API_HOST',
  group: 'api',
  description: 'Address the API listens on; 0.0.0.0 to accept connections from other machines or containers.',
  schema: host('127.0.0.1'),
  development: '127.0.0.1',
  production: '127.0.0.1',
});

export const CONDUIT_API_PORT = variable({
  name: 'CONDUIT_API_PORT',
  group: 'api',
  description: 'Port the API listens on.',
  schema: port(3000),
  development: '3000',
  production: '3000',
});

export const CONDUIT_PUBLIC_URL = variable({
  name: 'CONDUIT_PUBLIC_URL',
  group: 'api',
  description:
    "URL where users' browsers reach the API; OAuth redirect URIs are built from it, so it must match what each provider app has registered.",
  schema: url({
    protocols: ['http', 'https'],
    noun: 'an HTTP URL',
    example: 'https://conduit.example.com',
    base: true,
  }),
  development: fromPort('CONDUIT_API_PORT', 3000, (port) => `http://127.0.0.1:${port}`),
  requiredWhen: 'NODE_ENV=production',
  howToSet: 'set it to the https URL users reach this API at, e.g. https://conduit.example.com',
});

export const CONDUIT_OAUTH_STATE_TTL_SECONDS = variable({
  name: 'CONDUIT_OAUTH_STATE_TTL_SECONDS',
  group: 'api',
  description: 'How long a user has to finish an OAuth consent screen before its state expires.',
  schema: integer({ min: 1, max: 86_400, noun: 'a number of seconds', example: 600 }),
  development: '600',
  production: '600',
});

export const CONDUIT_WEBHOOK_TOLERANCE_SECONDS = variable({
  name: 'CONDUIT_WEBHOOK_TOLERANCE_SECONDS',
  group: 'api',
  description:
    "Oldest (or furthest in the future) a webhook's signed timestamp may be; older deliveries are refused as replays.",
  schema: integer({ min: 1, max: 86_400, noun: 'a number of seconds', example: 300 }),
  development: '300',
  production: '300',
});

export const CONDUIT_WEBHOOK_MAX_BODY_BYTES = variable({
  name: 'CONDUIT_WEBHOOK_MAX_BODY_BYTES',
  group: 'api',
  description: 'Largest webhook body accepted; larger ones are refused with 413.',
  schema: integer({ min: 1024, max: 104_857_600, noun: 'a number of bytes', example: 1_048_576 }),
  development: '1048576',
  production: '1048576',
});

export const CONDUIT_WORKER_METRICS_PORT = variable({
  name: 'CONDUIT_WORKER_METRICS_PORT',
  group: 'api',
  description:
    'Port the worker serves its Prometheus /metrics on (refresh outcomes happen there), on CONDUIT_API_HOST; 0 turns it off.',
  schema: integer({ min: 0, max: 65_535, noun: 'a port number (0 = off)', example: 9464 }),
  development: '9464',
  production: '9464',
});

export const CONDUIT_APP_ORIGIN = variable({
  name: 'CONDUIT_APP_ORIGIN',
  group: 'api',
  description:
    "Origin of the embedding app (e.g. https://app.example.com): the OAuth popup posts its result only to this origin, and returnTo URLs must be on it. '*' (development only) posts to any opener and accepts any returnTo.",
  schema: appOrigin(),
  development: '*',
  requiredWhen: 'NODE_ENV=production',
  howToSet:
    'set it to the origin of the app that opens the connect popup, e.g. https://app.example.com (scheme, host and port only)',
});

export const CONDUIT_WEBHOOK_STORE_TIMEOUT_MS = variable({
  name: 'CONDUIT_WEBHOOK_STORE_TIMEOUT_MS',
  group: 'api',
  description:
    'Longest a webhook waits for its delivery to be stored in Postgres; not stored by then: 503, and the sender sends it again.',
  schema: integer({ min: 50, max: 60_000, noun: 'a number of milliseconds', example: 5000 }),
  development: '5000',
  production: '5000',
});

export const CONDUIT_WEBHOOK_ENQUEUE_TIMEOUT_MS = variable({
  name: 'CONDUIT_WEBHOOK_ENQUEUE_TIMEOUT_MS',
  group: 'api',
  description:
    'Longest a stored webhook delivery waits for its job to reach Redis before it is acknowledged anyway (202); the inbox sweep queues it later.',
  schema: integer({ min: 50, max: 60_000, noun: 'a number of milliseconds', example: 1000 }),
  development: '1000',
  production: '1000',
});

export const CONDUIT_INBOX_SWEEP_INTERVAL_SECONDS = variable({
  name: 'CONDUIT_INBOX_SWEEP_INTERVAL_SECONDS',
  group: 'api',
  description:
    'How often the scheduler queues the work of webhook deliveries that were stored but never reached a queue (Redis was down).',
  schema: integer({ min: 1, max: 86_400, noun: 'a number of seconds', example: 60 }),
  development: '60',
  production: '60',
});

export const CONDUIT_INBOX_REQUEUE_AFTER_SECONDS = variable({
  name: 'CONDUIT_INBOX_REQUEUE_AFTER_SECONDS',
  group: 'api',
  description:
    'Age after which a webhook delivery still waiting is queued again by the inbox sweep (its job is deduplicated, so one still queued is left alone).',
  schema: integer({ min: 0, max: 86_400, noun: 'a number of seconds', example: 60 }),
  development: '60',
  production: '60',
});

export const CONDUIT_READY_CHECK_TIMEOUT_MS = variable({
  name: 'CONDUIT_READY_CHECK_TIMEOUT_MS',
  group: 'api',
  description:
    'Longest /readyz waits for Postgres and Redis; a datastore that has not answered by then is reported down (503).',
  schema: integer({ min: 50, max: 30_000, noun: 'a number of milliseconds', example: 1500 }),
  development: '1500',
  production: '1500',
});

export const CONDUIT_HEALTH_READ_TIMEOUT_MS = variable({
  name: 'CONDUIT_HEALTH_READ_TIMEOUT_MS',
  group: 'api',
  description:
    'Longest the health page (/admin/health, /admin/health.json) waits for each datastore; one that has not answered is shown as down.',
  schema: integer({ min: 50, max: 60_000, noun: 'a number of milliseconds', example: 2000 }),
  development: '2000',
  production: '2000',
});

export const CONDUIT_SIGNIN_MAX_FAILURES_PER_CLIENT = variable({
  name: 'CONDUIT_SIGNIN_MAX_FAILURES_PER_CLIENT',
  group: 'api',
  description:
    'Failed sign-ins (operator passwords, API keys, the metrics token) one client IP may make per window; then every sign-in from it is refused with 429 until the window ends.',
  schema: integer({ min: 1, max: 1_000_000, noun: 'a number of failures', example: 20 }),
  development: '20',
  production: '20',
});

export const CONDUIT_SIGNIN_MAX_FAILURES_PER_NAME = variable({
  name: 'CONDUIT_SIGNIN_MAX_FAILURES_PER_NAME',
  group: 'api',
  description:
    'Failed sign-ins one operator name may have per window, from anywhere; then that name is refused with 429 until the window ends.',
  schema: integer({ min: 1, max: 1_000_000, noun: 'a number of failures', example: 10 }),
  development: '10',
  production: '10',
});

export const CONDUIT_SIGNIN_FAILURE_WINDOW_SECONDS = variable({
  name: 'CONDUIT_SIGNIN_FAILURE_WINDOW_SECONDS',
  group: 'api',
  description: 'The window failed sign-ins are counted in, and so the longest a lockout lasts.',
  schema: integer({ min: 1, max: 86_400, noun: 'a number of seconds', example: 300 }),
  development: '300',
  production: '300',
});

export const CONDUIT_SIGNIN_STORE_TIMEOUT_MS = variable({
  name: 'CONDUIT_SIGNIN_STORE_TIMEOUT_MS',
  group: 'api',
  description:
    'Failed sign-ins are counted in Redis, shared by every api process; longest a count may take. With Redis down or slower than this, the failure is answered without being counted.',
  schema: integer({ min: 10, max: 30_000, noun: 'a number of milliseconds', example: 500 }),
  development: '500',
  production: '500',
});

export const CONDUIT_FATHOM_WEBHOOK_MODE = variable({
  name: 'CONDUIT_FATHOM_WEBHOOK_MODE',
  group: 'api',
  description:
    "per_connection: Conduit registers a Fathom webhook for each connection on connect (its own URL and secret; deleted on disconnect, re-registered by a sweep). operator: Conduit registers none; an operator registers one webhook to /v1/webhooks/fathom signed with CONDUIT_FATHOM_WEBHOOK_SECRET, and deliveries are matched by the recorder's email. Both routes accept deliveries in either mode.",
  schema: oneOf(['per_connection', 'operator'], 'a webhook mode'),
  development: 'per_connection',
  production: 'per_connection',
});

export const CONDUIT_WEBHOOK_SWEEP_INTERVAL_SECONDS = variable({
  name: 'CONDUIT_WEBHOOK_SWEEP_INTERVAL_SECONDS',
  group: 'api',
  description:
    "How often the scheduler checks per-connection Fathom webhooks: registers missing ones (a registration that failed at connect) and re-registers ones deleted at Fathom. Each connection's webhook is looked up at Fathom at most once per interval.",
  schema: integer({ min: 1, max: 86_400, noun: 'a number of seconds', example: 900 }),
  development: '300',
  production: '900',
});

export const apiVariables = [
  CONDUIT_API_HOST,
  CONDUIT_API_PORT,
  CONDUIT_PUBLIC_URL,
  CONDUIT_OAUTH_STATE_TTL_SECONDS,
  CONDUIT_WEBHOOK_TOLERANCE_SECONDS,
  CONDUIT_WEBHOOK_MAX_BODY_BYTES,
  CONDUIT_WORKER_METRICS_PORT,
  CONDUIT_APP_ORIGIN,
  CONDUIT_WEBHOOK_STORE_TIMEOUT_MS,
  CONDUIT_WEBHOOK_ENQUEUE_TIMEOUT_MS,
  CONDUIT_INBOX_SWEEP_INTERVAL_SECONDS,
  CONDUIT_INBOX_REQUEUE_AFTER_SECONDS,
  CONDUIT_READY_CHECK_TIMEOUT_MS,
  CONDUIT_HEALTH_READ_TIMEOUT_MS,
  CONDUIT_SIGNIN_MAX_FAILURES_PER_CLIENT,
  CONDUIT_SIGNIN_MAX_FAILURES_PER_NAME,
  CONDUIT_SIGNIN_FAILURE_WINDOW_SECONDS,
  CONDUIT_SIGNIN_STORE_TIMEOUT_MS,
  CONDUIT_FATHOM_WEBHOOK_MODE,
  CONDUIT_WEBHOOK_SWEEP_INTERVAL_SECONDS,
];

export interface ApiConfig {
  readonly host: string;
  readonly port: number;
  /** Without a trailing slash. */
  readonly publicUrl: string;
  readonly oauthStateTtlSeconds: number;
  readonly webhookToleranceSeconds: number;
  readonly webhookMaxBodyBytes: number;
  /** The worker's /metrics port; 0 = off. */
  readonly workerMetricsPort: number;
  /** An origin such as https://app.example.com, or '*' (development only). */
  readonly appOrigin: string;
  readonly webhookStoreTimeoutMs: number;
  readonly webhookEnqueueTimeoutMs: number;
  readonly inboxSweepIntervalSeconds: number;
  readonly inboxRequeueAfterSeconds: number;
  readonly readyCheckTimeoutMs: number;
  readonly healthReadTimeoutMs: number;
  /** who registers Fathom webhooks: Conduit, one per connection, or an operator, one for all */
  readonly fathomWebhookMode: 'per_connection' | 'operator';
  readonly webhookSweepIntervalSeconds: number;
  /** failed sign-ins per client IP, and per operator name, within one window */
  readonly signIn: {
    readonly maxPerClient: number;
    readonly maxPerName: number;
    readonly windowSeconds: number;
    readonly storeTimeoutMs: number;
  };
}

export function readApi(r: EnvReader): ApiConfig {
  return {
    host: r.read(CONDUIT_API_HOST),
    port: r.read(CONDUIT_API_PORT),
    publicUrl: r.read(CONDUIT_PUBLIC_URL),
    oauthStateTtlSeconds: r.read(CONDUIT_OAUTH_STATE_TTL_SECONDS),
    webhookToleranceSeconds: r.read(CONDUIT_WEBHOOK_TOLERANCE_SECONDS),
    webhookMaxBodyBytes: r.read(CONDUIT_WEBHOOK_MAX_BODY_BYTES),
    workerMetricsPort: r.read(CONDUIT_WORKER_METRICS_PORT),
    appOrigin: readAppOrigin(r),
    webhookStoreTimeoutMs: r.read(CONDUIT_WEBHOOK_STORE_TIMEOUT_MS),
    webhookEnqueueTimeoutMs: r.read(CONDUIT_WEBHOOK_ENQUEUE_TIMEOUT_MS),
    inboxSweepIntervalSeconds: r.read(CONDUIT_INBOX_SWEEP_INTERVAL_SECONDS),
    inboxRequeueAfterSeconds: r.read(CONDUIT_INBOX_REQUEUE_AFTER_SECONDS),
    readyCheckTimeoutMs: r.read(CONDUIT_READY_CHECK_TIMEOUT_MS),
    healthReadTimeoutMs: r.read(CONDUIT_HEALTH_READ_TIMEOUT_MS),
    fathomWebhookMode: r.read(CONDUIT_FATHOM_WEBHOOK_MODE),
    webhookSweepIntervalSeconds: r.read(CONDUIT_WEBHOOK_SWEEP_INTERVAL_SECONDS),
    signIn: {
      maxPerClient: r.read(CONDUIT_SIGNIN_MAX_FAILURES_PER_CLIENT),
      maxPerName: r.read(CONDUIT_SIGNIN_MAX_FAILURES_PER_NAME),
      windowSeconds: r.read(CONDUIT_SIGNIN_FAILURE_WINDOW_SECONDS),
      storeTimeoutMs: r.read(CONDUIT_SIGNIN_STORE_TIMEOUT_MS),
    },
  };
}

function readAppOrigin(r: EnvReader): string {
  const origin = r.read(CONDUIT_APP_ORIGIN);
  if (origin === '*' && r.nodeEnv === 'production') {
    r.problem(
      CONDUIT_APP_ORIGIN,
      `"*" would post connect results to any page that opens the popup; in production ${CONDUIT_APP_ORIGIN.howToSet}`,
    );
  }
  return origin;
}
