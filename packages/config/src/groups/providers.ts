import {
  catalogueFiles,
  catalogueLoadProblem,
  DeclarationError,
  formatProblem,
  PROVIDER_KEYS,
  PROVIDERS,
  providerFilesFrom,
  useProviderFiles,
  type BuiltInProviderKey,
  type ProviderKey,
} from '@conduit/core';
import { orOff, text, url } from '../kinds.ts';
import { fromPort, optionalVariable, variable } from '../variable.ts';
import type { EnvReader, Variable } from '../variable.ts';

export { PROVIDER_KEYS };
export type { ProviderKey };

/** `CONDUIT_GITHUB_` and `CONDUIT_GITHUB_APP_`: variables are looked up by full name, never by prefix. */
export function providerEnvPrefix(key: ProviderKey): string {
  return `CONDUIT_${key.toUpperCase()}_`;
}

export const CONDUIT_PROVIDERS_FILE = optionalVariable({
  name: 'CONDUIT_PROVIDERS_FILE',
  group: 'providers',
  description:
    'Provider declaration files (YAML or JSON, comma-separated) that add providers to the built-in ones in packages/core/providers/ or override them by key; see "Adding a provider" in the README. Each declared provider then has its own CONDUIT_<KEY>_CLIENT_ID, _CLIENT_SECRET and endpoint overrides.',
  schema: text('one or more file paths, comma-separated, e.g. ./providers/acme.yaml'),
  howToSet:
    'list the declaration files, e.g. CONDUIT_PROVIDERS_FILE=./providers/acme.yaml,./providers/zoom-eu.yaml',
});

export const CONDUIT_SANDBOX_URL = optionalVariable({
  name: 'CONDUIT_SANDBOX_URL',
  group: 'providers',
  description:
    'When set, every provider endpoint is served by the local sandbox at this base URL (per-endpoint overrides below still win). "off" uses the real providers.',
  schema: orOff(
    url({ protocols: ['http', 'https'], noun: 'an HTTP URL', example: 'http://127.0.0.1:4000', base: true }),
  ),
  development: fromPort('CONDUIT_SANDBOX_PORT', 4000, (port) => `http://127.0.0.1:${port}`),
});

export const CONDUIT_SANDBOX_BROWSER_URL = optionalVariable({
  name: 'CONDUIT_SANDBOX_BROWSER_URL',
  group: 'providers',
  description:
    "Base URL at which users' browsers reach the sandbox's consent pages, when it differs from CONDUIT_SANDBOX_URL (the address the apps use), e.g. http://127.0.0.1:4000 while the apps use http://sandbox:4000 inside docker compose. Default: CONDUIT_SANDBOX_URL.",
  schema: url({
    protocols: ['http', 'https'],
    noun: 'an HTTP URL',
    example: 'http://127.0.0.1:4000',
    base: true,
  }),
});

export const CONDUIT_USER_AGENT = variable({
  name: 'CONDUIT_USER_AGENT',
  group: 'providers',
  description:
    "User-Agent of every request Conduit makes to a provider (token endpoints and APIs). Providers' support teams read it when they look into your traffic; name your deployment and a contact.",
  schema: text('a User-Agent string, e.g. "Conduit/0.1 (+https://example.com/contact)"'),
  development: 'Conduit/0.1',
  production: 'Conduit/0.1',
});

function clientVariables(key: ProviderKey) {
  const prefix = providerEnvPrefix(key);
  const who = PROVIDERS[key]?.displayName ?? key;
  const endpoint = (suffix: string, what: string, base = false) =>
    optionalVariable({
      name: `${prefix}${suffix}`,
      group: 'providers',
      description: `Overrides ${who}'s ${what} (default: the provider catalogue's, or the sandbox's when CONDUIT_SANDBOX_URL is set).`,
      schema: url({
        protocols: ['http', 'https'],
        noun: 'an HTTP URL',
        example: 'https://provider.example.com/oauth',
        base,
      }),
    });
  const credentials = `set both ${prefix}CLIENT_ID and ${prefix}CLIENT_SECRET (from ${who}'s developer settings), or neither to disable ${key}`;
  return {
    clientId: optionalVariable({
      name: `${prefix}CLIENT_ID`,
      group: 'providers',
      description: `${who} OAuth client id. Without a client id and secret, ${key} is disabled.`,
      schema: text(`the client id from ${who}'s developer settings`),
      development: `conduit-${key}`,
      howToSet: credentials,
    }),
    clientSecret: optionalVariable({
      name: `${prefix}CLIENT_SECRET`,
      group: 'providers',
      description: `${who} OAuth client secret.`,
      schema: text(`the client secret from ${who}'s developer settings`),
      development: `sandbox-secret-${key}`,
      howToSet: credentials,
    }),
    authorizeUrl: endpoint('AUTHORIZE_URL', 'OAuth authorize endpoint'),
    tokenUrl: endpoint('TOKEN_URL', 'OAuth token endpoint'),
    apiBaseUrl: endpoint('API_BASE_URL', 'API base URL', true),
  };
}

type ClientVariables = ReturnType<typeof clientVariables>;

/** The built-in providers' variables, for the docs; a declared provider's are made when it is read. */
export const PROVIDER_CLIENT_VARIABLES = Object.fromEntries(
  PROVIDER_KEYS.map((key) => [key, clientVariables(key)]),
) as Readonly<Record<ProviderKey, ClientVariables>>;

const declaredClientVariables = new Map<ProviderKey, ClientVariables>();
function clientVariablesOf(key: ProviderKey): ClientVariables {
  const known = PROVIDER_CLIENT_VARIABLES[key] ?? declaredClientVariables.get(key);
  if (known) return known;
  const made = clientVariables(key);
  declaredClientVariables.set(key, made);
  return made;
}

export const providerVariables: Variable<unknown>[] = [
  CONDUIT_PROVIDERS_FILE,
  CONDUIT_SANDBOX_URL,
  CONDUIT_SANDBOX_BROWSER_URL,
  CONDUIT_USER_AGENT,
  ...PROVIDER_KEYS.flatMap((key) => Object.values(clientVariablesOf(key))),
];

interface Endpoints {
  readonly authorizeUrl: string | undefined;
  readonly tokenUrl: string | undefined;
  /** Without a trailing slash. */
  readonly apiBaseUrl: string | undefined;
}

/** A provider with no credentials is disabled: it offers no connect flow and its jobs are not run. */
export type ProviderClientConfig = Endpoints & { readonly key: ProviderKey } & (
    | { readonly enabled: true; readonly clientId: string; readonly clientSecret: string }
    | { readonly enabled: false; readonly clientId: undefined; readonly clientSecret: undefined }
  );

export interface ProvidersConfig {
  /** Base URL of the local sandbox that serves every provider, when used. */
  readonly sandboxUrl: string | undefined;
  /** Where browsers reach the sandbox's consent pages; the sandbox URL unless set apart. */
  readonly sandboxBrowserUrl: string | undefined;
  readonly userAgent: string;
  /** Every declared provider's client; look one up by a key from outside with clientConfig(). */
  readonly clients: Readonly<Record<BuiltInProviderKey, ProviderClientConfig>> &
    Readonly<Partial<Record<ProviderKey, ProviderClientConfig>>>;
}

function readClient(r: EnvReader, key: ProviderKey): ProviderClientConfig {
  const v = clientVariablesOf(key);
  const clientId = r.read(v.clientId);
  const clientSecret = r.read(v.clientSecret);
  const endpoints: Endpoints = {
    authorizeUrl: r.read(v.authorizeUrl),
    tokenUrl: r.read(v.tokenUrl),
    apiBaseUrl: r.read(v.apiBaseUrl),
  };
  // Judged on what was set, not on defaults: a real client id with the sandbox's secret only fails later, obscurely.
  if (r.isSet(v.clientId) && !r.isSet(v.clientSecret)) r.require(v.clientSecret, `${v.clientId.name} is set`);
  if (r.isSet(v.clientSecret) && !r.isSet(v.clientId)) r.require(v.clientId, `${v.clientSecret.name} is set`);
  return clientId !== undefined && clientSecret !== undefined
    ? { key, enabled: true, clientId, clientSecret, ...endpoints }
    : { key, enabled: false, clientId: undefined, clientSecret: undefined, ...endpoints };
}

/**
 * Loads CONDUIT_PROVIDERS_FILE into the process's catalogue (when it names other files than the
 * catalogue was loaded with) and reports each mistake in it as one line.
 */
function readDeclarations(r: EnvReader): void {
  const files = providerFilesFrom(r.read(CONDUIT_PROVIDERS_FILE));
  const startProblem = catalogueLoadProblem();
  const loaded = catalogueFiles();
  const same = files.length === loaded.length && files.every((f, i) => f === loaded[i]);
  if (same && startProblem === undefined) return;
  try {
    useProviderFiles(files);
  } catch (err) {
    if (!(err instanceof DeclarationError)) throw err;
    for (const p of err.problems) r.problems.push(`${CONDUIT_PROVIDERS_FILE.name}: ${formatProblem(p)}`);
  }
}

/** The client of a declared provider; throws for a key no declaration names. */
export function clientConfig(providers: ProvidersConfig, key: ProviderKey): ProviderClientConfig {
  const client = providers.clients[key];
  if (client === undefined) throw new Error(`no provider "${key}" is declared`);
  return client;
}

export function readProviders(r: EnvReader): ProvidersConfig {
  readDeclarations(r);
  const sandboxUrl = r.read(CONDUIT_SANDBOX_URL);
  const sandboxBrowserUrl = r.read(CONDUIT_SANDBOX_BROWSER_URL);
  const clients = Object.fromEntries(PROVIDER_KEYS.map((key) => [key, readClient(r, key)]));
  return {
    sandboxUrl,
    sandboxBrowserUrl: sandboxUrl === undefined ? undefined : (sandboxBrowserUrl ?? sandboxUrl),
    userAgent: r.read(CONDUIT_USER_AGENT),
    clients: clients as ProvidersConfig['clients'],
  };
}
