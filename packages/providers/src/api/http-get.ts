// Requests with a bearer token over a pooled undici agent, bounded end to end: connect, headers and
// body timeouts plus one overall deadline, and a cap on the body size. Transport failures become
// transient outcomes (never exceptions), exactly as at the token endpoint.
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import type { HttpHeaders } from '../http-headers.ts';
import { classifyTransportError } from '../transport-error.ts';
import type { TransientOutcome } from '../transport-error.ts';
import { readLimited } from '../read-limited.ts';

export interface ApiTimeouts {
  connectMs: number;
  headersMs: number;
  bodyMs: number;
}

export interface ApiHttpOptions {
  timeouts: ApiTimeouts;
  /** Keep-alive connections per origin (default 8). */
  connectionsPerOrigin?: number;
  /** Longer bodies are cut here and fail parsing (default 8 MiB: transcripts are long). */
  maxResponseBytes?: number;
  userAgent?: string;
}

export interface HttpAnswer {
  kind: 'answer';
  status: number;
  headers: HttpHeaders;
  text: string;
}

const DEFAULT_USER_AGENT = 'Conduit-ApiClient/0.1';

export class ApiHttp {
  readonly #agent: Agent;
  readonly #timeouts: ApiTimeouts;
  readonly #maxResponseBytes: number;
  readonly #userAgent: string;
  #closed = false;

  constructor(options: ApiHttpOptions) {
    this.#timeouts = { ...options.timeouts };
    this.#maxResponseBytes = options.maxResponseBytes ?? 8 * 1024 * 1024;
    this.#userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
    this.#agent = new Agent({
      connections: options.connectionsPerOrigin ?? 8,
      pipelining: 1,
      connect: { timeout: options.timeouts.connectMs },
      headersTimeout: options.timeouts.headersMs,
      bodyTimeout: options.timeouts.bodyMs,
    });
  }

  /** `where` names the request in outcome details: method, origin and path, never the query or token. */
  get(url: URL, accessToken: string, signal?: AbortSignal): Promise<HttpAnswer | TransientOutcome> {
    return this.send('GET', url, accessToken, undefined, signal);
  }

  /** Any method; `json` is sent as the JSON body. */
  async send(
    method: 'GET' | 'POST' | 'DELETE',
    url: URL,
    accessToken: string,
    json?: unknown,
    signal?: AbortSignal,
  ): Promise<HttpAnswer | TransientOutcome> {
    if (this.#closed) throw new Error('ApiHttp: used after close()');
    const where = `${method} ${url.origin}${url.pathname}`;
    if (signal?.aborted)
      return { kind: 'transient', cause: 'timeout', detail: `${where}: aborted by the caller` };
    const { connectMs, headersMs, bodyMs } = this.#timeouts;
    const deadlineMs = connectMs + headersMs + bodyMs;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), deadlineMs);
    const onAbort = () => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    let response: Dispatcher.ResponseData | undefined;
    try {
      response = await request(url, {
        dispatcher: this.#agent,
        method,
        headers: {
          authorization: `Bearer ${accessToken}`,
          accept: 'application/json',
          'user-agent': this.#userAgent,
          ...(json !== undefined && { 'content-type': 'application/json' }),
        },
        ...(json !== undefined && { body: JSON.stringify(json) }),
        signal: controller.signal,
      });
      const text = await readLimited(response.body, this.#maxResponseBytes, response.headers);
      return { kind: 'answer', status: response.statusCode, headers: response.headers, text };
    } catch (error) {
      if (signal?.aborted)
        return { kind: 'transient', cause: 'timeout', detail: `${where}: aborted by the caller` };
      if (controller.signal.aborted) {
        return {
          kind: 'transient',
          cause: 'timeout',
          detail: `${where}: no complete answer within ${deadlineMs} ms`,
        };
      }
      return classifyTransportError(error, where);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (response && !response.body.destroyed && !response.body.bodyUsed) response.body.destroy();
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#agent.close();
  }
}
