// The provider declaration format: what a YAML (or JSON) file says about one provider, checked
// with zod and turned into a ProviderSpec. Defaults fill what most providers share, so a
// declaration holds only what is particular to its provider. Pure: text in, specs or problems out.
import { z } from 'zod';
import type { ProviderKey, ProviderSpec } from './types.ts';

const UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Seconds, as a whole number or with a unit: 3600, "60m", "12h", "182d". */
const duration = z.union(
  [
    z.number().int().nonnegative(),
    z
      .string()
      .regex(/^\d+[smhd]$/)
      .transform((text) => Number(text.slice(0, -1)) * UNITS[text.slice(-1)]!),
  ],
  { error: 'expected seconds: a whole number, or one with a unit such as "90m", "12h", "182d"' },
);

const clientAuth = z.enum(['basic', 'body']);
const errorKind = z.enum(['invalid_grant', 'invalid_client', 'rejected']);
const httpUrl = z.string().regex(/^https?:\/\/[^\s/]+/, {
  error: 'expected an absolute http(s) URL, e.g. https://example.com/oauth/token',
});
const sandboxPath = z.string().regex(/^\/[^\s]*$/, {
  error: 'expected a path under the sandbox, starting with "/", e.g. /acme/oauth/token',
});

const endpoints = z.strictObject({ authorizeUrl: httpUrl, tokenUrl: httpUrl, apiBaseUrl: httpUrl });
const paths = z.strictObject({ authorizeUrl: sandboxPath, tokenUrl: sandboxPath, apiBaseUrl: sandboxPath });

const refreshTokenLifetime = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('none') }),
  z.strictObject({ kind: z.literal('absolute_from_consent'), seconds: duration }),
  z.strictObject({ kind: z.literal('inactivity'), seconds: duration }),
  z.strictObject({ kind: z.literal('from_response'), typicalSeconds: duration }),
]);

const refresh = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('none') }),
  z.strictObject({
    kind: z.literal('refresh_token'),
    rotation: z.enum(['always', 'sometimes', 'never']),
    refreshTokenLifetime: refreshTokenLifetime.default({ kind: 'none' }),
  }),
]);

const signal = z.union(
  [
    z.enum([
      'retry-after',
      'ratelimit-reset-seconds',
      'x-ratelimit-reset-after-seconds',
      'x-ratelimit-reset-epoch',
      'json-retry_after',
    ]),
    z.strictObject({
      header: z.string().min(1),
      format: z.enum(['delta-seconds', 'epoch-seconds', 'retry-after']),
    }),
    z.strictObject({ json: z.string().min(1) }),
  ],
  {
    error:
      'expected retry-after, ratelimit-reset-seconds, x-ratelimit-reset-after-seconds, x-ratelimit-reset-epoch, json-retry_after, {header: NAME, format: delta-seconds|epoch-seconds|retry-after} or {json: FIELD}',
  },
);

const rateLimit = z.strictObject({
  signals: z.array(signal).default(['retry-after']),
  forbiddenIsRateLimitWhenRemainingZero: z.boolean().default(false),
  forbiddenRateLimitReasons: z.array(z.string()).default([]),
  accountBudget: z
    .strictObject({ requests: z.number().int().positive(), windowSeconds: duration })
    .optional(),
});

const revocation = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('none'), note: z.string().min(1) }),
  z.strictObject({
    kind: z.literal('rfc7009'),
    url: httpUrl,
    sandboxPath: sandboxPath.optional(),
    clientAuth: z.enum(['basic', 'body', 'none', 'client_id']),
    token: z.enum(['refresh_token', 'access_token']),
  }),
  z.strictObject({ kind: z.literal('github_grant'), url: httpUrl, sandboxPath: sandboxPath.optional() }),
]);

const identity = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('profile'),
    path: sandboxPath,
    id: z.string().min(1),
    email: z.string().min(1).optional(),
    name: z.string().min(1).optional(),
  }),
  z.strictObject({ kind: z.literal('fathom_recorder') }),
]);

const sandbox = z.strictObject({
  dialect: z.string().min(1).optional(),
  tokenType: z.string().min(1).optional(),
  accessTokenPrefix: z.string().optional(),
  refreshTokenPrefix: z.string().optional(),
  errorShape: z.enum(['rfc6749', 'message']).optional(),
  okField: z.boolean().optional(),
  accountIdStart: z.number().int().nonnegative().optional(),
});

const declaration = z.strictObject({
  displayName: z.string().min(1),
  endpoints,
  sandboxPaths: paths.optional(),
  clientAuth,
  acceptedClientAuth: z.array(clientAuth).min(1).optional(),
  pkce: z.boolean().default(false),
  refresh,
  accessTokenLifetimeSeconds: duration.nullable(),
  scopes: z
    .strictObject({
      default: z.array(z.string().min(1)).default([]),
      products: z
        .record(
          z.string(),
          z.strictObject({ scopes: z.array(z.string().min(1)), apiBaseUrl: httpUrl.optional() }),
        )
        .optional(),
      separator: z.enum([' ', ',']).default(' '),
    })
    .default({ default: [], separator: ' ' }),
  authorizeParams: z.record(z.string(), z.string()).default({}),
  tokenErrors: z
    .strictObject({
      errorsWithHttp200: z.boolean().default(false),
      codes: z.record(z.string(), errorKind).default({}),
      descriptions: z.record(z.string(), errorKind).default({}),
    })
    .default({ errorsWithHttp200: false, codes: {}, descriptions: {} }),
  rateLimit: rateLimit.default({
    signals: ['retry-after'],
    forbiddenIsRateLimitWhenRemainingZero: false,
    forbiddenRateLimitReasons: [],
  }),
  revocation: revocation.optional(),
  identity,
  dataSync: z.enum(['none', 'fathom_meetings']).default('none'),
  sandbox: sandbox.default({}),
});

export type ProviderDeclaration = z.input<typeof declaration>;

/** A provider key: what URLs, environment variables and the database use. */
export const PROVIDER_KEY_PATTERN = /^[a-z][a-z0-9_]{0,39}$/;

/** One mistake: where it is and what to do, as the one line an operator reads. */
export interface DeclarationProblem {
  file: string;
  line?: number | undefined;
  provider?: string | undefined;
  /** dotted path inside the provider's declaration */
  field?: string | undefined;
  message: string;
}

export function formatProblem(p: DeclarationProblem): string {
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}`;
  if (p.provider === undefined) return `${where}: ${p.message}`;
  const what = p.field === undefined || p.field === '' ? '' : `, field "${p.field}"`;
  return `${where}: provider "${p.provider}"${what}: ${p.message}`;
}

export class DeclarationError extends Error {
  constructor(readonly problems: readonly DeclarationProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'DeclarationError';
  }
}

/** The issue as a sentence with the fix; zod's own wording is kept only as a last resort. */
function describeIssue(issue: z.core.$ZodIssue, value: unknown): string {
  const shown = value === undefined ? 'nothing' : JSON.stringify(value);
  switch (issue.code) {
    case 'invalid_value':
      return `got ${shown}, expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union':
      if ('discriminator' in issue && issue.discriminator !== undefined) {
        return `got ${shown}; set "${String(issue.discriminator)}" to one of the kinds this field takes (see docs/providers.md)`;
      }
      return issue.message.startsWith('expected')
        ? `${issue.message}, got ${shown}`
        : `got ${shown}: ${issue.message}`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}; remove ${issue.keys.length > 1 ? 'them' : 'it'} or check the spelling`;
    case 'invalid_type':
      if (value === undefined) return `missing; add it (${issue.expected})`;
      return `expected ${issue.expected}, got ${shown}`;
    case 'invalid_format':
      return `${issue.message}; got ${shown}`;
    case 'too_small':
      return `${issue.message}; got ${shown}`;
    default:
      return `${issue.message}; got ${shown}`;
  }
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/**
 * One provider's declaration (already merged with what it extends) → its spec, or the problems
 * found, each located by `lineOf` (a field path → line number, when the source can tell).
 */
export function parseDeclaration(
  file: string,
  key: string,
  raw: unknown,
  lineOf: (path: readonly (string | number)[]) => number | undefined = () => undefined,
): { ok: true; spec: ProviderSpec } | { ok: false; problems: DeclarationProblem[] } {
  if (!PROVIDER_KEY_PATTERN.test(key)) {
    return {
      ok: false,
      problems: [
        {
          file,
          line: lineOf([key]),
          provider: key,
          message:
            'a provider key is lower-case letters, digits and "_", starting with a letter (at most 40), e.g. acme_crm',
        },
      ],
    };
  }
  const result = declaration.safeParse(raw);
  if (!result.success) {
    return {
      ok: false,
      problems: result.error.issues.map((issue) => {
        const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
        return {
          file,
          line: lineOf(
            issue.code === 'unrecognized_keys' ? [key, ...path, issue.keys[0] ?? ''] : [key, ...path],
          ),
          provider: key,
          field: path.join('.'),
          message: describeIssue(issue, valueAt(raw, path)),
        };
      }),
    };
  }
  const d = result.data;
  const refreshKind = d.refresh.kind;
  const problems: DeclarationProblem[] = [];
  const accepted = d.acceptedClientAuth ?? [d.clientAuth];
  if (!accepted.includes(d.clientAuth)) {
    problems.push({
      file,
      line: lineOf([key, 'acceptedClientAuth']),
      provider: key,
      field: 'acceptedClientAuth',
      message: `does not include clientAuth "${d.clientAuth}"; add it, or change clientAuth to one the provider accepts`,
    });
  }
  if (refreshKind === 'none' && d.accessTokenLifetimeSeconds !== null) {
    problems.push({
      file,
      line: lineOf([key, 'accessTokenLifetimeSeconds']),
      provider: key,
      field: 'accessTokenLifetimeSeconds',
      message:
        'a provider without refresh must have tokens that never expire; set accessTokenLifetimeSeconds: null, or declare refresh: {kind: refresh_token, …}',
    });
  }
  if (problems.length > 0) return { ok: false, problems };

  const base = `/${key}`;
  const sandboxPaths = d.sandboxPaths ?? {
    authorizeUrl: `${base}/oauth/authorize`,
    tokenUrl: `${base}/oauth/token`,
    apiBaseUrl: `${base}/api`,
  };
  const revocation: ProviderSpec['revocation'] =
    d.revocation === undefined
      ? {
          kind: 'none',
          note: `${d.displayName} documents no token revocation; the user removes the app in its settings`,
        }
      : d.revocation.kind === 'none'
        ? d.revocation
        : {
            ...d.revocation,
            sandboxPath: d.revocation.sandboxPath ?? `${base}/oauth/revoke`,
          };
  const spec: ProviderSpec = {
    key: key as ProviderKey,
    displayName: d.displayName,
    endpoints: d.endpoints,
    sandboxPaths,
    clientAuth: d.clientAuth,
    acceptedClientAuth: accepted,
    pkce: d.pkce,
    refresh: d.refresh,
    accessTokenLifetimeSeconds: d.accessTokenLifetimeSeconds,
    scopes: d.scopes,
    authorizeParams: d.authorizeParams,
    tokenErrors: d.tokenErrors,
    rateLimit: d.rateLimit,
    revocation,
    identity: d.identity,
    dataSync: d.dataSync,
    sandbox: d.sandbox,
  };
  return { ok: true, spec };
}
