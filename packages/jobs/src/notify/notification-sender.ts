// POSTs one signed notification and says how it went. Every answer and every transport failure
// becomes a SendResult; nothing here throws for a receiver's misbehaviour.
import { Agent, request } from 'undici';
import type { NotificationRequest } from './notification-request.ts';

export type SendResult = { ok: true; status: number } | { ok: false; error: string };

/** Enough of the receiver's answer to tell why it refused; never more. */
const ERROR_BODY_BYTES = 300;

export class NotificationSender {
  readonly #agent: Agent;

  constructor(private readonly timeoutMs: number) {
    this.#agent = new Agent({
      connect: { timeout: timeoutMs },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      connections: 16,
    });
  }

  async send(url: string, req: NotificationRequest): Promise<SendResult> {
    // One deadline for the whole exchange, on top of undici's per-phase timeouts.
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      const res = await request(url, {
        method: 'POST',
        headers: req.headers,
        body: req.body,
        dispatcher: this.#agent,
        signal,
      });
      if (res.statusCode >= 200 && res.statusCode < 300) {
        await res.body.dump();
        return { ok: true, status: res.statusCode };
      }
      const snippet = await readSnippet(res.body);
      const redirect =
        res.statusCode >= 300 && res.statusCode < 400
          ? ' (redirects are not followed; set CONDUIT_NOTIFY_URL to the final URL)'
          : '';
      return { ok: false, error: `HTTP ${res.statusCode}${redirect}${snippet ? `: ${snippet}` : ''}` };
    } catch (err) {
      return { ok: false, error: describeTransportError(err, signal, this.timeoutMs) };
    }
  }

  close(): Promise<void> {
    return this.#agent.close();
  }
}

async function readSnippet(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= ERROR_BODY_BYTES) break;
    }
  } catch {
    // A receiver that breaks off its error body still gave us its status: that is enough.
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).subarray(0, ERROR_BODY_BYTES).toString('utf8').replace(/\s+/g, ' ').trim();
}

function describeTransportError(err: unknown, signal: AbortSignal, timeoutMs: number): string {
  if (signal.aborted) return `no answer within ${timeoutMs} ms (CONDUIT_NOTIFY_TIMEOUT_MS)`;
  const e = err as { code?: string; message?: string };
  if (e.code === 'UND_ERR_CONNECT_TIMEOUT') return `could not connect within ${timeoutMs} ms`;
  if (e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT') {
    return `no answer within ${timeoutMs} ms (CONDUIT_NOTIFY_TIMEOUT_MS)`;
  }
  return `network error: ${e.code ?? e.message ?? String(err)}`;
}
