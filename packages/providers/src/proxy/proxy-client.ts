// The provider proxy's HTTP client: one request to a URL already judged safe (core's
// proxyTarget), bounded end to end — connect, headers and body timeouts under one overall
// deadline, and a cap on the answer's size. Redirects are never followed (a Location is handed
// back to the caller as is), so an answer cannot carry the request to another host.
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import type { HttpHeaders } from '../http-headers.ts';
import { classifyTransportError } from '../transport-error.ts';

export interface ProxyRequest {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body?: Buffer | undefined;
}

export type ProxyAnswer =
  | { kind: 'answer'; status: number; headers: HttpHeaders; body: Buffer }
  | { kind: 'too_large'; status: number; maxBytes: number }
  | { kind: 'timeout'; detail: string }
  | { kind: 'unreachable'; detail: string };

export interface ProxyClientOptions {
  /** the whole request, answer body included */
  timeoutMs: number;
  connectTimeoutMs: number;
  maxResponseBytes: number;
  userAgent: string;
  connectionsPerOrigin?: number;
}

export class ProxyClient {
  readonly #agent: Agent;

  constructor(private readonly options: ProxyClientOptions) {
    this.#agent = new Agent({
      connections: options.connectionsPerOrigin ?? 16,
      connect: { timeout: options.connectTimeoutMs },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  async send(req: ProxyRequest): Promise<ProxyAnswer> {
    const where = `${req.method} ${req.url.origin}${req.url.pathname}`;
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    let response: Dispatcher.ResponseData | undefined;
    try {
      response = await request(req.url, {
        dispatcher: this.#agent,
        method: req.method as Dispatcher.HttpMethod,
        headers: { ...req.headers, 'user-agent': this.options.userAgent },
        ...(req.body !== undefined && req.body.length > 0 && { body: req.body }),
        signal,
      });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > this.options.maxResponseBytes) {
          response.body.destroy();
          return { kind: 'too_large', status: response.statusCode, maxBytes: this.options.maxResponseBytes };
        }
        chunks.push(chunk);
      }
      return {
        kind: 'answer',
        status: response.statusCode,
        headers: response.headers,
        body: Buffer.concat(chunks),
      };
    } catch (error) {
      if (signal.aborted)
        return {
          kind: 'timeout',
          detail: `${where}: no complete answer within ${this.options.timeoutMs} ms`,
        };
      const outcome = classifyTransportError(error, where);
      return outcome.cause === 'timeout'
        ? { kind: 'timeout', detail: outcome.detail ?? where }
        : { kind: 'unreachable', detail: outcome.detail ?? where };
    } finally {
      if (response && !response.body.destroyed && !response.body.bodyUsed) response.body.destroy();
    }
  }

  close(): Promise<void> {
    return this.#agent.close();
  }
}
