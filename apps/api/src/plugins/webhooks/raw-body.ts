// Signatures cover the exact bytes sent, so webhook bodies are kept as a Buffer, whatever their
// content type, up to the configured limit (larger ones: 413 before anything is read further).
import type { FastifyInstance } from 'fastify';
import { HttpProblem } from '../../problem.ts';

export function keepRawBodies(app: FastifyInstance, maxBytes: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBytes }, (_req, body, done) =>
    done(null, body),
  );
  // Child error handlers that throw hand the error on to the app's problem handler.
  app.setErrorHandler((err: Error & { code?: string }) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      throw new HttpProblem(
        413,
        'payload-too-large',
        'The webhook body is too large',
        `webhook bodies are limited to ${maxBytes} bytes (CONDUIT_WEBHOOK_MAX_BODY_BYTES)`,
      );
    }
    throw err;
  });
}

export function rawBodyOf(body: unknown): Buffer {
  return Buffer.isBuffer(body) ? body : Buffer.alloc(0);
}
