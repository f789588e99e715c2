// Talking to a sandbox over real HTTP, as its clients do.
import type { ProviderKey } from '@conduit/core';
import { providerSpec } from '@conduit/core';
import { defaultClientId, defaultClientSecret, type ProviderReports, type Sandbox } from '../src/index.ts';
import { waitFor } from '@conduit/testing';
import type { SeededGrant } from '../src/index.ts';
export type { SeededGrant };

export interface Answer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

async function answer<T>(response: Response): Promise<Answer<T>> {
  const text = await response.text();
  let body: unknown = text;
  if ((response.headers.get('content-type') ?? '').includes('json') && text) body = JSON.parse(text);
  return { status: response.status, headers: response.headers, body: body as T, text };
}

export async function http<T = Record<string, unknown>>(
  url: string,
  init: RequestInit & { json?: unknown } = {},
): Promise<Answer<T>> {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (json !== undefined) headers.set('content-type', 'application/json');
  return answer<T>(
    await fetch(url, { ...rest, headers, body: json === undefined ? rest.body : JSON.stringify(json) }),
  );
}

/** A control call; throws on anything but 2xx so a test fails where its setup did. */
export async function control<T = Record<string, unknown>>(
  sb: Sandbox,
  method: string,
  path: string,
  json?: unknown,
): Promise<T> {
  const res = await http<T>(`${sb.url}/_sandbox${path}`, { method, ...(json === undefined ? {} : { json }) });
  if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${res.text}`);
  return res.body;
}

export async function seedGrant(
  sb: Sandbox,
  provider: ProviderKey,
  extra: Record<string, unknown> = {},
): Promise<SeededGrant> {
  const { grants } = await control<{ grants: SeededGrant[] }>(sb, 'POST', '/grants', { provider, ...extra });
  return grants[0]!;
}

export function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

export type AuthStyle = 'basic' | 'body';

/** POST to a provider's token endpoint with the default client's credentials, as `style` says. */
export async function tokenRequest<T = Record<string, string>>(
  sb: Sandbox,
  provider: ProviderKey,
  fields: Record<string, string>,
  opts: { style?: AuthStyle; secret?: string; clientId?: string; accept?: string; userAgent?: string } = {},
): Promise<Answer<T>> {
  const spec = providerSpec(provider);
  const style = opts.style ?? spec.clientAuth;
  const clientId = opts.clientId ?? defaultClientId(provider);
  const secret = opts.secret ?? defaultClientSecret(provider);
  const form = new URLSearchParams(fields);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (opts.accept) headers.accept = opts.accept;
  if (opts.userAgent) headers['user-agent'] = opts.userAgent;
  if (style === 'basic') headers.authorization = basic(clientId, secret);
  else {
    form.set('client_id', clientId);
    form.set('client_secret', secret);
  }
  return http<T>(`${sb.url}${spec.sandboxPaths.tokenUrl}`, {
    method: 'POST',
    headers,
    body: form.toString(),
  });
}

export function refresh<T = Record<string, string>>(
  sb: Sandbox,
  provider: ProviderKey,
  refreshToken: string,
  opts: Parameters<typeof tokenRequest>[3] = {},
): Promise<Answer<T>> {
  const accept =
    opts.accept ?? (providerSpec(provider).tokenErrors.errorsWithHttp200 ? 'application/json' : undefined);
  return tokenRequest<T>(
    sb,
    provider,
    { grant_type: 'refresh_token', refresh_token: refreshToken },
    { ...opts, ...(accept ? { accept } : {}) },
  );
}

export function api<T = Record<string, unknown>>(
  sb: Sandbox,
  provider: ProviderKey,
  path: string,
  accessToken: string | undefined,
  init: RequestInit & { json?: unknown } = {},
): Promise<Answer<T>> {
  const headers = new Headers(init.headers);
  if (accessToken !== undefined) headers.set('authorization', `Bearer ${accessToken}`);
  return http<T>(`${sb.url}${providerSpec(provider).sandboxPaths.apiBaseUrl}${path}`, { ...init, headers });
}

/** The identity ("who am I") path under each provider's API base. */
export const WHO_AM_I: Partial<Record<ProviderKey, string>> = {
  spotify: '/me',
  google: '/oauth2/v3/userinfo',
  discord: '/users/@me',
  github: '/user',
  github_app: '/user',
};

export interface Report {
  anomalies: number;
  providers: ProviderReports;
  grants?: {
    total: number;
    items: { grantId: string; refreshToken: string | null; lastRefreshAt: string | null; family: string }[];
  };
}

export function report(sb: Sandbox, query = ''): Promise<Report> {
  return control<Report>(sb, 'GET', `/report${query}`);
}

/** Polls until `check` holds (for things that happen on the sandbox's own schedule). */
export const eventually = <T>(check: () => Promise<T | undefined | false>, timeoutMs = 3000) =>
  waitFor(check, timeoutMs, 'the sandbox', 10);
