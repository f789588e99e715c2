import { appOrigin, host, integer, port, url } from '../kinds.ts';
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

export const apiVariables = [
  CONDUIT_API_HOST,
  CONDUIT_API_PORT,
  CONDUIT_PUBLIC_URL,
  CONDUIT_OAUTH_STATE_TTL_SECONDS,
  CONDUIT_WEBHOOK_TOLERANCE_SECONDS,
  CONDUIT_WEBHOOK_MAX_BODY_BYTES,
  CONDUIT_WORKER_METRICS_PORT,
  CONDUIT_APP_ORIGIN,
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
