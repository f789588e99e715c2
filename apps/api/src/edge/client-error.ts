// Errors Node's HTTP parser raises before Fastify sees a request (headers too large, a malformed
// request line, a request that took too long): answered on the socket as problem details, as
// Fastify's default handler answers them, but in our shape.
import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { PROBLEM_CONTENT_TYPE, TYPE_BASE, statusTitle } from '../problem.ts';

const KNOWN: Record<string, { status: number; slug: string; detail: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    slug: 'headers-too-large',
    detail: 'the request headers exceed the size this server accepts; send fewer or shorter headers',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    slug: 'request-timeout',
    detail: 'the request was not received in full in time',
  },
};

export function problemClientError(
  this: FastifyInstance,
  err: Error & { code?: string },
  socket: Socket,
): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const known = (err.code !== undefined && KNOWN[err.code]) || {
    status: 400,
    slug: 'malformed-request',
    detail: 'the request could not be parsed as HTTP/1.1',
  };
  const body = JSON.stringify({
    type: TYPE_BASE + known.slug,
    title: statusTitle(known.status),
    status: known.status,
    detail: known.detail,
  });
  this.log.info({ code: err.code, status: known.status }, 'client error answered before routing');
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${known.status} ${STATUS_CODES[known.status]}\r\n` +
        `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
