import { errors } from 'undici';
import { describe, expect, it } from 'vitest';
import { classifyTransportError } from '../src/index.ts';

const WHERE = 'POST https://accounts.example.com/api/token';

function sysError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('classifyTransportError', () => {
  it('undici connect, headers and body timeouts are transient timeouts', () => {
    for (const e of [
      new errors.ConnectTimeoutError(),
      new errors.HeadersTimeoutError(),
      new errors.BodyTimeoutError(),
    ]) {
      expect(classifyTransportError(e, WHERE)).toMatchObject({ kind: 'transient', cause: 'timeout' });
    }
    expect(classifyTransportError(new errors.HeadersTimeoutError(), WHERE).detail).toBe(
      `${WHERE}: no response headers within the headers timeout (UND_ERR_HEADERS_TIMEOUT)`,
    );
  });
  it('aborts are transient timeouts', () => {
    expect(classifyTransportError(new errors.RequestAbortedError(), WHERE)).toMatchObject({
      cause: 'timeout',
    });
    expect(
      classifyTransportError(new DOMException('This operation was aborted', 'AbortError'), WHERE),
    ).toMatchObject({ cause: 'timeout' });
    expect(classifyTransportError(new DOMException('timed out', 'TimeoutError'), WHERE)).toMatchObject({
      cause: 'timeout',
    });
  });
  it('resets, refusals and closed sockets are transient network failures', () => {
    expect(classifyTransportError(new errors.SocketError('other side closed'), WHERE)).toMatchObject({
      cause: 'network',
    });
    expect(classifyTransportError(sysError('ECONNRESET', 'read ECONNRESET'), WHERE)).toMatchObject({
      cause: 'network',
    });
    expect(
      classifyTransportError(sysError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9'), WHERE),
    ).toMatchObject({ cause: 'network' });
    expect(classifyTransportError(sysError('ENOTFOUND', 'getaddrinfo ENOTFOUND x'), WHERE)).toMatchObject({
      cause: 'network',
    });
  });
  it('finds the code in a cause chain or an AggregateError (happy-eyeballs connects)', () => {
    const wrapped = new TypeError('fetch failed', { cause: sysError('ECONNREFUSED', 'refused') });
    expect(classifyTransportError(wrapped, WHERE)).toMatchObject({
      cause: 'network',
      detail: expect.stringContaining('ECONNREFUSED'),
    });
    const aggregate = new AggregateError(
      [sysError('ETIMEDOUT', 'x'), sysError('ENETUNREACH', 'y')],
      'connect failed',
    );
    expect(classifyTransportError(aggregate, WHERE)).toMatchObject({
      cause: 'timeout',
      detail: expect.stringContaining('ETIMEDOUT'),
    });
  });
  it('an answer that is not HTTP is a transient server_error', () => {
    expect(classifyTransportError(sysError('HPE_INVALID_CONSTANT', 'Expected HTTP/'), WHERE)).toMatchObject({
      cause: 'server_error',
    });
  });
  it('anything else is a transient network failure named by its code', () => {
    expect(classifyTransportError(sysError('EWEIRD', 'x'), WHERE)).toMatchObject({
      cause: 'network',
      detail: `${WHERE}: the request failed (EWEIRD)`,
    });
    expect(classifyTransportError('a string', WHERE)).toMatchObject({
      cause: 'network',
      detail: `${WHERE}: the request failed (unknown error)`,
    });
  });
  it('never copies an error message into the detail (messages can quote what was sent)', () => {
    const leaky = sysError('ECONNRESET', 'failed sending client_secret=hunter2&refresh_token=rt-secret');
    const unknown = new Error('refresh_token=rt-secret');
    for (const e of [leaky, unknown]) {
      const { detail } = classifyTransportError(e, WHERE);
      expect(detail).not.toContain('hunter2');
      expect(detail).not.toContain('rt-secret');
    }
  });
});
