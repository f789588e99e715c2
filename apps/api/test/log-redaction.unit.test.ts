// Errors logged through Fastify's own loggers (app.log, request.log) are serialised by the
// serializers Fastify merges into its child loggers: the secrets in their properties must still
// be censored, as for every other line (packages/observability/src/redact.ts).
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@conduit/observability';

describe('log redaction through Fastify', () => {
  it("an error's token properties never reach the output from request.log or app.log", async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      format: 'json',
      name: 'api',
      destination: { write: (line: string) => void lines.push(line) },
    });
    const app = Fastify({ loggerInstance: logger as unknown as FastifyBaseLogger });
    app.get('/', async (req) => {
      req.log.error(
        { err: Object.assign(new Error('exchange failed'), { access_token: 'sentinel-req-9b1' }) },
        'boom',
      );
      app.log.warn(
        { err: Object.assign(new Error('refused'), { response: { refresh_token: 'sentinel-app-9b1' } }) },
        'refused',
      );
      return 'ok';
    });
    await app.inject('/');
    await app.close();
    const text = lines.join('');
    expect(text).toContain('exchange failed');
    expect(text).toContain('refused');
    expect(text).not.toContain('sentinel-');
    expect(text).toContain('[redacted]');
  });
});
