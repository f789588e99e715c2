// The client an application uses to reach Conduit: fresh tokens (cached until shortly before
// they expire), its users' connections, the provider proxy and the meetings Conduit syncs.
// Every failure is a typed error mirroring the API's problem codes (errors.ts).
import { errorFor, type ConduitError, type Problem } from './errors.ts';
import { TokenCache } from './token-cache.ts';
import type {
  AccessToken,
  Connection,
  Purged,
  ListedMeeting,
  MeetingDetail,
  MeetingPage,
  Provider,
  StartedConnect,
  SyncQueued,
} from './types.ts';

export interface ConduitClientOptions {
  /** where Conduit's api answers, e.g. https://conduit.internal.example.com */
  baseUrl: string;
  /** an API key with the scopes your calls need (tokens:read for tokens and the proxy) */
  apiKey: string;
  /** a cached token is handed out until this long before it expires (default 60 s) */
  refreshMarginSeconds?: number;
  /** tokens that never expire are re-read after this long (default 300 s), so a disconnect is seen */
  neverExpiringMaxAgeSeconds?: number;
  /** per request to Conduit (default 30 s) */
  timeoutMs?: number;
  /** defaults to the global fetch (Node 20+) */
  fetch?: typeof fetch;
}

/** A connection by id, or the way an app thinks of it: this user's connection to this provider. */
export type ConnectionRef = string | { ownerId: string; provider: Provider };

export interface GetAccessTokenOptions {
  /** the provider refused the token (401): refresh now; Conduit allows one per connection per window */
  forceRefresh?: boolean;
}

export interface StartConnectOptions {
  ownerId: string;
  teamId?: string;
  /** where the user lands afterwards; must be on Conduit's CONDUIT_APP_ORIGIN */
  returnTo?: string;
  /** e.g. ["youtube"] for Google */
  products?: string[];
}

export class ConduitClient {
  readonly #baseUrl: string;
  readonly #apiKey: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  readonly #tokens: TokenCache<AccessToken>;

  constructor(options: ConduitClientOptions) {
    if (!options.baseUrl)
      throw new TypeError('ConduitClient: baseUrl is required, e.g. http://127.0.0.1:3000');
    if (!options.apiKey) throw new TypeError('ConduitClient: apiKey is required (one of CONDUIT_API_KEYS)');
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#apiKey = options.apiKey;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#fetch = options.fetch ?? globalThis.fetch;
    if (typeof this.#fetch !== 'function')
      throw new TypeError('ConduitClient: no fetch; use Node 20+ or pass options.fetch');
    this.#tokens = new TokenCache(
      (options.refreshMarginSeconds ?? 60) * 1000,
      (options.neverExpiringMaxAgeSeconds ?? 300) * 1000,
    );
  }

  /** A usable access token: cached until shortly before it expires, else fetched (refreshed by Conduit when due). */
  async getAccessToken(ref: ConnectionRef, options: GetAccessTokenOptions = {}): Promise<AccessToken> {
    const key = typeof ref === 'string' ? ref : `owner:${ref.ownerId}\u0000${ref.provider}`;
    const path =
      typeof ref === 'string'
        ? `/v1/connections/${encodeURIComponent(ref)}/access-token`
        : `/v1/owners/${encodeURIComponent(ref.ownerId)}/connections/${encodeURIComponent(ref.provider)}/access-token`;
    const query = options.forceRefresh ? '?forceRefresh=true' : '';
    return this.#tokens.getOrLoad(
      key,
      async () => {
        const raw = await this.#json<Omit<AccessToken, 'expiresAt'> & { expiresAt: string | null }>(
          'GET',
          path + query,
        );
        return { ...raw, expiresAt: raw.expiresAt === null ? null : new Date(raw.expiresAt) };
      },
      options.forceRefresh === true,
    );
  }

  /** Forget cached tokens (all, or one connection's). */
  forgetTokens(ref?: ConnectionRef): void {
    if (ref === undefined) this.#tokens.clear();
    else this.#tokens.delete(typeof ref === 'string' ? ref : `owner:${ref.ownerId}\u0000${ref.provider}`);
  }

  /** One owner's connections, or one team's. */
  async listConnections(
    query: ({ ownerId: string } | { teamId: string }) & { provider?: Provider },
  ): Promise<Connection[]> {
    const { items } = await this.#json<{ items: Connection[] }>('GET', `/v1/connections${toQuery(query)}`);
    return items;
  }

  getConnection(connectionId: string): Promise<Connection> {
    return this.#json('GET', `/v1/connections/${encodeURIComponent(connectionId)}`);
  }

  /** The consent URL to open for the user; the connection appears when they come back. */
  startConnect(provider: Provider, options: StartConnectOptions): Promise<StartedConnect> {
    return this.#json('POST', `/v1/connect/${encodeURIComponent(provider)}/start`, options);
  }

  /**
   * Disconnects (tokens wiped, the grant revoked at the provider where it can be). The synced data
   * is kept for the retention period; `purge: true` deletes it now (the answer says what went).
   */
  async disconnect(connectionId: string): Promise<Connection>;
  async disconnect(connectionId: string, options: { purge: true }): Promise<Connection & { purged: Purged }>;
  async disconnect(connectionId: string, options: { purge?: boolean } = {}): Promise<Connection> {
    this.forgetTokens(connectionId);
    const query = options.purge ? '?purge=true' : '';
    return this.#json('DELETE', `/v1/connections/${encodeURIComponent(connectionId)}${query}`);
  }

  /** Ask for a data sync now (Fathom: meetings). */
  sync(
    connectionId: string,
    options: { mode?: 'incremental' | 'full'; limit?: number } = {},
  ): Promise<SyncQueued> {
    return this.#json('POST', `/v1/connections/${encodeURIComponent(connectionId)}/sync`, {
      mode: options.mode ?? 'incremental',
      ...(options.limit !== undefined && { limit: options.limit }),
    });
  }

  /** One page of a connection's meetings, newest first. */
  listMeetings(
    connectionId: string,
    options: { since?: Date | string; cursor?: string; limit?: number } = {},
  ): Promise<MeetingPage> {
    const since = options.since instanceof Date ? options.since.toISOString() : options.since;
    return this.#json(
      'GET',
      `/v1/connections/${encodeURIComponent(connectionId)}/meetings${toQuery({ ...options, since })}`,
    );
  }

  /** Every meeting, page after page. */
  async *meetings(
    connectionId: string,
    options: { since?: Date | string; pageSize?: number } = {},
  ): AsyncGenerator<ListedMeeting> {
    let cursor: string | undefined;
    do {
      const page = await this.listMeetings(connectionId, {
        ...(options.since !== undefined && { since: options.since }),
        ...(options.pageSize !== undefined && { limit: options.pageSize }),
        ...(cursor !== undefined && { cursor }),
      });
      yield* page.items;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }

  /** One meeting with its transcript and summary (null when not stored yet). */
  getMeeting(meetingId: string): Promise<MeetingDetail> {
    return this.#json('GET', `/v1/meetings/${encodeURIComponent(meetingId)}`);
  }

  /**
   * Calls the provider through Conduit's proxy, token injected: `proxy(id, 'me')` is GET
   * <provider API base>/me. The provider's answer comes back as a Response, whatever its status;
   * Conduit's own refusals (no connection, reconnect needed, path refused, provider down) throw.
   * Provider-specific headers go in `providerHeaders` (sent as conduit-provider-<name>).
   */
  async proxy(
    connectionId: string,
    path: string,
    init: {
      method?: string;
      body?: string | Uint8Array;
      headers?: Record<string, string>;
      providerHeaders?: Record<string, string>;
    } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    for (const [name, value] of Object.entries(init.providerHeaders ?? {}))
      headers[`conduit-provider-${name}`] = value;
    const res = await this.#send(
      init.method ?? 'GET',
      `/v1/proxy/${encodeURIComponent(connectionId)}/${path.replace(/^\/+/, '')}`,
      init.body,
      headers,
    );
    if ((res.headers.get('content-type') ?? '').includes('application/problem+json'))
      throw await problemError(res);
    return res;
  }

  async #json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.#send(
      method,
      path,
      body === undefined ? undefined : JSON.stringify(body),
      body === undefined ? {} : { 'content-type': 'application/json' },
    );
    if (!res.ok) throw await problemError(res);
    return (await res.json()) as T;
  }

  async #send(
    method: string,
    path: string,
    body: string | Uint8Array | undefined,
    headers: Record<string, string>,
  ): Promise<Response> {
    try {
      return await this.#fetch(`${this.#baseUrl}${path}`, {
        method,
        headers: { accept: 'application/json', ...headers, authorization: `Bearer ${this.#apiKey}` },
        ...(body !== undefined && { body }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      // Never the request itself in the message: it carries the API key.
      const reason =
        err instanceof Error && err.name === 'TimeoutError'
          ? `no answer within ${this.#timeoutMs} ms`
          : 'unreachable';
      throw errorFor(
        {
          status: 503,
          code: 'unavailable',
          title: 'Conduit is unreachable',
          detail: `${method} ${this.#baseUrl}: ${reason}`,
        },
        null,
      );
    }
  }
}

async function problemError(res: Response): Promise<ConduitError> {
  let problem: Problem = { status: res.status, title: res.statusText };
  try {
    const parsed = (await res.json()) as Problem;
    if (parsed && typeof parsed === 'object') problem = { ...parsed, status: res.status };
  } catch {
    // not JSON: keep the status line
  }
  return errorFor(problem, res.headers.get('retry-after'));
}

function toQuery(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const text = q.toString();
  return text === '' ? '' : `?${text}`;
}
