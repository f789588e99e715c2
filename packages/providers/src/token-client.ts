// The OAuth token endpoint over HTTP. Every HTTP answer and every transport failure becomes a
// TokenEndpointOutcome; only misuse (a provider that is not enabled, an empty token) throws.
import { PROVIDERS, isProviderKey, providerSpec } from '@conduit/core';
import type { ProviderKey, ProviderSpec, TokenEndpointOutcome } from '@conduit/core';
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import { classifyTokenResponse } from './token-response.ts';
import { buildTokenRequest } from './token-request.ts';
import type { ClientCredentials, TokenGrant } from './token-request.ts';
import { classifyTransportError } from './transport-error.ts';
import type { TransientOutcome } from './transport-error.ts';
import { readLimited } from './read-limited.ts';

export interface ProviderClientConfig extends ClientCredentials {
  /** The resolved token endpoint (see `resolveEndpoints`). */
  tokenUrl: string;
}

export interface TokenClientTimeouts {
  /** Time allowed to open a connection (TCP + TLS). */
  connectMs: number;
  /** Time allowed for the response headers once the request is sent. */
  headersMs: number;
  /** Time allowed for the whole response body once the headers are in. */
  bodyMs: number;
}

export interface TokenClientOptions {
  /** Enabled providers only; a call for any other provider throws. */
  providers: Partial<Record<ProviderKey, ProviderClientConfig>>;
  timeouts: TokenClientTimeouts;
  /** Wait reported for a rate limit that gave no usable hint (DESIGN rule 4: 60 s). */
  rateLimitDefaultWaitMs: number;
  userAgent?: string;
  /** Keep-alive connections per origin (default 8). */
  connectionsPerOrigin?: number;
  /** Token responses are small; anything longer is cut here and fails JSON parsing (default 64 KiB). */
  maxResponseBytes?: number;
  /** Clock for HTTP-date and epoch rate-limit hints (default: the system clock). */
  now?: () => Date;
}

export interface RefreshOptions {
  signal?: AbortSignal;
  /**
   * Once the request is sent, wait this long for the whole answer instead of the headers and body
   * timeouts. A strict-rotation provider may rotate the moment it reads the request: an answer
   * abandoned early is a rotated token lost, so the refresh path waits as long as its lease allows.
   */
  answerDeadlineMs?: number;
  /**
   * The whole call, connect included, ends within this many ms (with `answerDeadlineMs`, the
   * sooner of the two). Cheaper than `signal: AbortSignal.timeout(ms)`, whose timer outlives the
   * call (a refresh path at a thousand calls a second would keep tens of thousands of them alive).
   */
  deadlineMs?: number;
  /** Narrow the scope of the new access token (RFC 6749 §6). */
  scope?: string;
}

export interface CodeExchange {
  code: string;
  redirectUri: string;
  /** PKCE (RFC 7636) verifier, when the authorization request carried a challenge. */
  codeVerifier?: string;
}

interface Target {
  spec: ProviderSpec;
  credentials: ClientCredentials;
  url: URL;
  /** `POST origin/path`: names the request in outcome details, without any query. */
  where: string;
}

const DEFAULT_USER_AGENT = 'Conduit-TokenClient/0.1';

export class TokenClient {
  readonly #agent: Agent;
  readonly #targets: ReadonlyMap<ProviderKey, Target>;
  readonly #timeouts: TokenClientTimeouts;
  readonly #rateLimitDefaultWaitMs: number;
  readonly #userAgent: string;
  readonly #maxResponseBytes: number;
  readonly #now: () => Date;
  #closed = false;

  constructor(options: TokenClientOptions) {
    const { timeouts } = options;
    positive('timeouts.connectMs', timeouts.connectMs);
    positive('timeouts.headersMs', timeouts.headersMs);
    positive('timeouts.bodyMs', timeouts.bodyMs);
    positive('rateLimitDefaultWaitMs', options.rateLimitDefaultWaitMs);
    const connections = options.connectionsPerOrigin ?? 8;
    positive('connectionsPerOrigin', connections);
    this.#maxResponseBytes = options.maxResponseBytes ?? 64 * 1024;
    positive('maxResponseBytes', this.#maxResponseBytes);

    this.#targets = new Map(
      Object.entries(options.providers).flatMap(([key, config]) =>
        config === undefined ? [] : [[providerKey(key), target(providerKey(key), config)] as const],
      ),
    );
    this.#timeouts = { ...timeouts };
    this.#rateLimitDefaultWaitMs = options.rateLimitDefaultWaitMs;
    this.#userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
    this.#now = options.now ?? (() => new Date());
    // One agent: it keeps a keep-alive pool per origin, so each provider reuses its own sockets.
    this.#agent = new Agent({
      connections,
      pipelining: 1,
      connect: { timeout: timeouts.connectMs },
      headersTimeout: timeouts.headersMs,
      bodyTimeout: timeouts.bodyMs,
    });
  }

  /** Providers this client can call. */
  get providers(): ProviderKey[] {
    return [...this.#targets.keys()];
  }

  /** `grant_type=refresh_token`. Resolves with the classified answer; never rejects for an HTTP answer. */
  async refresh(
    provider: ProviderKey,
    refreshToken: string,
    opts: RefreshOptions = {},
  ): Promise<TokenEndpointOutcome> {
    const target = this.#target(provider);
    if (target.spec.refresh.kind === 'none') {
      throw new Error(
        `TokenClient.refresh: ${target.spec.displayName} tokens cannot be refreshed (catalogue refresh.kind "none"); they do not expire`,
      );
    }
    if (refreshToken === '') {
      throw new TypeError(
        `TokenClient.refresh: the refresh token for ${provider} is empty; expected the stored refresh token`,
      );
    }
    return this.#send(
      target,
      { grantType: 'refresh_token', refreshToken, scope: opts.scope },
      opts.signal,
      opts.answerDeadlineMs,
      opts.deadlineMs,
    );
  }

  /** `grant_type=authorization_code`, with the PKCE verifier when there is one. */
  async exchangeCode(
    provider: ProviderKey,
    exchange: CodeExchange,
    opts: { signal?: AbortSignal } = {},
  ): Promise<TokenEndpointOutcome> {
    const target = this.#target(provider);
    if (exchange.code === '' || exchange.redirectUri === '') {
      throw new TypeError(
        `TokenClient.exchangeCode: code and redirectUri are required for ${provider}; expected the callback's code and the redirect URI used to authorize`,
      );
    }
    const grant: TokenGrant = {
      grantType: 'authorization_code',
      code: exchange.code,
      redirectUri: exchange.redirectUri,
      codeVerifier: exchange.codeVerifier,
    };
    return this.#send(target, grant, opts.signal);
  }

  /** Closes the pooled connections once in-flight requests finish. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#agent.close();
  }

  #target(provider: ProviderKey): Target {
    if (this.#closed) throw new Error('TokenClient: used after close()');
    const target = this.#targets.get(provider);
    if (!target) {
      const enabled = [...this.#targets.keys()];
      throw new Error(
        `TokenClient: provider "${provider}" is not enabled; enabled: ${enabled.length ? enabled.join(', ') : '(none)'}. Configure its client id, secret and token URL to enable it`,
      );
    }
    return target;
  }

  async #send(
    target: Target,
    grant: TokenGrant,
    signal: AbortSignal | undefined,
    answerDeadlineMs?: number,
    callDeadlineMs?: number,
  ): Promise<TokenEndpointOutcome> {
    const { where } = target;
    if (signal?.aborted) return abortedByCaller(where);
    const wire = buildTokenRequest(target.spec.clientAuth, target.credentials, grant, this.#userAgent);

    // undici's timeouts cover connect, headers and each body chunk, not a queue wait for a pooled
    // socket or a trickling body; the deadline bounds the whole call, so a lock TTL above it holds.
    const { connectMs, headersMs, bodyMs } = this.#timeouts;
    const answerMs = answerDeadlineMs !== undefined ? Math.max(1, Math.floor(answerDeadlineMs)) : undefined;
    const callMs = callDeadlineMs !== undefined ? Math.max(1, Math.floor(callDeadlineMs)) : Infinity;
    const deadlineMs = Math.min(connectMs + (answerMs ?? headersMs + bodyMs), callMs);
    const controller = new AbortController();
    // The abort waits one turn of the event loop (setImmediate runs after the poll phase): after
    // a stall longer than the deadline (CPU starvation, a long GC) timers run before I/O, and an
    // answer already in the socket would be thrown away, though the provider has rotated.
    const timer = setTimeout(() => setImmediate(() => controller.abort()), deadlineMs);
    const onAbort = () => setImmediate(() => controller.abort());
    signal?.addEventListener('abort', onAbort, { once: true });

    let response: Dispatcher.ResponseData | undefined;
    let text: string;
    try {
      response = await request(target.url, {
        dispatcher: this.#agent,
        method: 'POST',
        headers: wire.headers,
        body: wire.body,
        signal: controller.signal,
        // With an answer deadline, the deadline above is the only bound: undici's own timers
        // would fire before a stalled loop reads an answer that has arrived.
        ...(answerMs !== undefined && { headersTimeout: 0, bodyTimeout: 0 }),
      });
      text = await readLimited(response.body, this.#maxResponseBytes, response.headers);
    } catch (error) {
      if (signal?.aborted) return abortedByCaller(where);
      if (controller.signal.aborted) {
        const bound =
          deadlineMs === callMs
            ? "the call's deadline"
            : answerMs !== undefined
              ? 'connect timeout + the answer deadline'
              : 'connect + headers + body timeouts';
        return timeout(`${where}: no complete answer within ${deadlineMs} ms (${bound})`);
      }
      return classifyTransportError(error, where);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      // A body we did not finish (error mid-read) must not keep its socket out of the pool.
      if (response && !response.body.destroyed && !response.body.bodyUsed) response.body.destroy();
    }
    // Outside the try: a fault in classification is a bug to surface, not a network failure.
    return classifyTokenResponse(target.spec, response.statusCode, response.headers, text, {
      now: this.#now(),
      rateLimitDefaultWaitMs: this.#rateLimitDefaultWaitMs,
    });
  }
}

function abortedByCaller(where: string): TransientOutcome {
  return timeout(`${where}: aborted by the caller`);
}

function timeout(detail: string): TransientOutcome {
  return { kind: 'transient', cause: 'timeout', detail };
}

function providerKey(key: string): ProviderKey {
  if (!isProviderKey(key)) {
    throw new Error(
      `TokenClient: unknown provider "${key}" in options.providers; expected one of: ${Object.keys(PROVIDERS).join(', ')}`,
    );
  }
  return key;
}

function target(key: ProviderKey, config: ProviderClientConfig): Target {
  const spec = providerSpec(key);
  const name = `options.providers.${key}`;
  if (typeof config.clientId !== 'string' || config.clientId === '') {
    throw new Error(
      `TokenClient: ${name}.clientId is empty; expected the client id of your ${spec.displayName} OAuth app`,
    );
  }
  if (typeof config.clientSecret !== 'string' || config.clientSecret === '') {
    throw new Error(
      `TokenClient: ${name}.clientSecret is empty; expected the client secret of your ${spec.displayName} OAuth app`,
    );
  }
  let url: URL;
  try {
    url = new URL(config.tokenUrl);
  } catch {
    url = new URL('invalid:');
  }
  // The URL is not echoed: a misconfigured one may carry credentials.
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username !== '' || url.password !== '') {
    throw new Error(
      `TokenClient: ${name}.tokenUrl is not an absolute http(s) URL without credentials; expected e.g. ${spec.endpoints.tokenUrl}`,
    );
  }
  return {
    spec,
    credentials: { clientId: config.clientId, clientSecret: config.clientSecret },
    url,
    where: `POST ${url.origin}${url.pathname}`,
  };
}

function positive(name: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(
      `TokenClient: ${name} must be a whole number of milliseconds (or a count) above 0, got ${value}`,
    );
  }
}
