// A request that got no HTTP answer (timeout, reset, refused, garbled) is transient by definition:
// it says nothing about the grant, so it must never lead to `needs_reauth`.
import type { TokenEndpointOutcome } from '@conduit/core';
import { isRecord } from './json.ts';

export type TransientOutcome = Extract<TokenEndpointOutcome, { kind: 'transient' }>;
type Cause = TransientOutcome['cause'];

const KNOWN: Readonly<Record<string, readonly [Cause, string]>> = {
  UND_ERR_CONNECT_TIMEOUT: ['timeout', 'connecting timed out'],
  UND_ERR_HEADERS_TIMEOUT: ['timeout', 'no response headers within the headers timeout'],
  UND_ERR_BODY_TIMEOUT: ['timeout', 'the response body stalled beyond the body timeout'],
  UND_ERR_ABORTED: ['timeout', 'the request was aborted'],
  ABORT_ERR: ['timeout', 'the request was aborted'],
  ETIMEDOUT: ['timeout', 'the connection timed out'],
  UND_ERR_SOCKET: ['network', 'the connection was closed before a complete answer'],
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: ['network', 'the response was cut short'],
  UND_ERR_CLOSED: ['network', 'the HTTP client was closed'],
  UND_ERR_DESTROYED: ['network', 'the HTTP client was destroyed'],
  ECONNRESET: ['network', 'the connection was reset'],
  ECONNREFUSED: ['network', 'the connection was refused'],
  ECONNABORTED: ['network', 'the connection was aborted'],
  EPIPE: ['network', 'the connection broke while sending'],
  ENOTFOUND: ['network', 'the host name did not resolve'],
  EAI_AGAIN: ['network', 'DNS lookup failed temporarily'],
  EHOSTUNREACH: ['network', 'the host is unreachable'],
  ENETUNREACH: ['network', 'the network is unreachable'],
  UND_ERR_HEADERS_OVERFLOW: ['server_error', 'the response headers were too large'],
  UND_ERR_RES_EXCEEDED_MAX_SIZE: ['server_error', 'the response body was too large'],
  UND_ERR_INFO: ['server_error', 'the server sent an unusable answer'],
};

/** Error names that carry no code (DOMException from AbortSignal). */
const BY_NAME: Readonly<Record<string, readonly [Cause, string]>> = {
  AbortError: ['timeout', 'the request was aborted'],
  TimeoutError: ['timeout', 'the request timed out'],
};

/**
 * The transient outcome for an error thrown while sending a token request or reading its answer.
 * `where` names the request (method and URL without query). The detail is built from fixed
 * phrases and error codes only, never from error messages, which can quote what was sent.
 */
export function classifyTransportError(error: unknown, where: string): TransientOutcome {
  const chain = errorChain(error);
  for (const e of chain) {
    const code = typeof e.code === 'string' ? e.code : undefined;
    const known =
      (code !== undefined && Object.hasOwn(KNOWN, code) ? KNOWN[code] : undefined) ??
      (typeof e.name === 'string' && Object.hasOwn(BY_NAME, e.name) ? BY_NAME[e.name] : undefined);
    if (known) return transient(known[0], `${where}: ${known[1]} (${code ?? String(e.name)})`);
    // llhttp's parse errors (HPE_INVALID_CONSTANT…): the server spoke something that is not HTTP.
    if (code?.startsWith('HPE_'))
      return transient('server_error', `${where}: the answer was not valid HTTP (${code})`);
  }
  const named = chain.map((e) =>
    typeof e.code === 'string' ? e.code : typeof e.name === 'string' ? e.name : undefined,
  );
  const label = named.find((n) => n !== undefined && /^[\w.-]{1,60}$/.test(n)) ?? 'unknown error';
  return transient('network', `${where}: the request failed (${label})`);
}

function transient(cause: Cause, detail: string): TransientOutcome {
  return { kind: 'transient', cause, detail };
}

/** The error, its `cause`s and an AggregateError's members (happy-eyeballs connects), breadth-first. */
function errorChain(error: unknown): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const queue: unknown[] = [error];
  while (queue.length > 0 && out.length < 16) {
    const e = queue.shift();
    if (!isErrorLike(e) || out.includes(e)) continue;
    out.push(e);
    if (e.cause !== undefined) queue.push(e.cause);
    if (Array.isArray(e.errors)) queue.push(...(e.errors as unknown[]));
  }
  return out;
}

function isErrorLike(value: unknown): value is Record<string, unknown> {
  return value instanceof Error || isRecord(value);
}
