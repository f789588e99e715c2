import { host, integer, jsonObject, port, text } from '../kinds.ts';
import { optionalVariable, variable } from '../variable.ts';
import type { EnvReader } from '../variable.ts';

export const CONDUIT_SANDBOX_HOST = variable({
  name: 'CONDUIT_SANDBOX_HOST',
  group: 'sandbox',
  description: 'Address the provider sandbox listens on.',
  schema: host('127.0.0.1'),
  development: '127.0.0.1',
  production: '127.0.0.1',
});

export const CONDUIT_SANDBOX_PORT = variable({
  name: 'CONDUIT_SANDBOX_PORT',
  group: 'sandbox',
  description: 'Port the provider sandbox listens on.',
  schema: port(4000),
  development: '4000',
  production: '4000',
});

export const CONDUIT_SANDBOX_SEED = variable({
  name: 'CONDUIT_SANDBOX_SEED',
  group: 'sandbox',
  description: "Seed of the sandbox's random data and faults, so a run can be repeated exactly.",
  schema: integer({ min: 0, max: 4_294_967_295, noun: 'a seed', example: 42 }),
  development: '42',
  production: '42',
});

export const CONDUIT_SANDBOX_FAULTS = optionalVariable({
  name: 'CONDUIT_SANDBOX_FAULTS',
  group: 'sandbox',
  description:
    'Faults the sandbox injects (429s, 5xx, revoked grants…), as a JSON object; the sandbox documents its keys.',
  schema: jsonObject('{"spotify": {…}}, with the keys apps/sandbox documents'),
});

export const CONDUIT_SANDBOX_GRANTS_FILE = optionalVariable({
  name: 'CONDUIT_SANDBOX_GRANTS_FILE',
  group: 'sandbox',
  description:
    'File in which the sandbox keeps its accounts and grants across restarts, so the tokens Conduit holds stay valid. `npm start` sets it to sandbox-grants.json in CONDUIT_DATA_DIR; unset, the sandbox forgets everything when it stops (tests, benchmarks).',
  schema: text('a file path'),
});

export const CONDUIT_SANDBOX_NEW_ACCOUNT_MEETINGS = variable({
  name: 'CONDUIT_SANDBOX_NEW_ACCOUNT_MEETINGS',
  group: 'sandbox',
  description:
    "Past meetings a Fathom account gets when it is first seen on the sandbox's consent page, so a newcomer's first connect syncs something; 0 for none.",
  schema: integer({ min: 0, max: 1000, noun: 'a number of meetings', example: 3 }),
  development: '3',
  production: '3',
});

export const CONDUIT_DEMO_USERS = variable({
  name: 'CONDUIT_DEMO_USERS',
  group: 'sandbox',
  description: 'How many demo connections `npm start` creates against the sandbox.',
  schema: integer({ min: 0, max: 100_000, noun: 'a number of users', example: 3 }),
  development: '3',
  production: '0',
});

export const CONDUIT_DEMO_TOKEN_TTL_SECONDS = variable({
  name: 'CONDUIT_DEMO_TOKEN_TTL_SECONDS',
  group: 'sandbox',
  description:
    "Lifetime of the demo connections' access tokens at the sandbox; each is refreshed when half of it is left (or CONDUIT_REFRESH_BUFFER_SECONDS, if that is shorter).",
  schema: integer({ min: 2, max: 86_400, noun: 'a number of seconds', example: 360 }),
  development: '360',
  production: '360',
});

export const sandboxVariables = [
  CONDUIT_SANDBOX_HOST,
  CONDUIT_SANDBOX_PORT,
  CONDUIT_SANDBOX_SEED,
  CONDUIT_SANDBOX_NEW_ACCOUNT_MEETINGS,
  CONDUIT_SANDBOX_FAULTS,
  CONDUIT_SANDBOX_GRANTS_FILE,
  CONDUIT_DEMO_USERS,
  CONDUIT_DEMO_TOKEN_TTL_SECONDS,
];

export interface SandboxConfig {
  readonly host: string;
  readonly port: number;
  readonly seed: number;
  readonly newAccountMeetings: number;
  readonly faults: Readonly<Record<string, unknown>> | undefined;
  readonly grantsFile: string | undefined;
  readonly demoUsers: number;
  readonly demoTokenTtlSeconds: number;
}

export function readSandbox(r: EnvReader): SandboxConfig {
  return {
    host: r.read(CONDUIT_SANDBOX_HOST),
    port: r.read(CONDUIT_SANDBOX_PORT),
    seed: r.read(CONDUIT_SANDBOX_SEED),
    newAccountMeetings: r.read(CONDUIT_SANDBOX_NEW_ACCOUNT_MEETINGS),
    faults: r.read(CONDUIT_SANDBOX_FAULTS),
    grantsFile: r.read(CONDUIT_SANDBOX_GRANTS_FILE),
    demoUsers: r.read(CONDUIT_DEMO_USERS),
    demoTokenTtlSeconds: r.read(CONDUIT_DEMO_TOKEN_TTL_SECONDS),
  };
}
