import { describe, expect, it } from 'vitest';
import { REDACT_PATHS, SECRET_KEYS, createLogger } from '../src/index.ts';
import type { LogFormat } from '../src/index.ts';
import { capture, objectAt } from './capture.ts';

const FORMATS: LogFormat[] = ['json', 'pretty'];

describe.each(FORMATS)('redaction › %s format', (format) => {
  it.each(REDACT_PATHS.map((path, i) => [path, `sentinel-${i}-5f0c1d`] as const))(
    'a secret at %s never reaches the output',
    (path, sentinel) => {
      const out = capture();
      const log = createLogger({ level: 'info', format, name: 'test', destination: out });
      log.info(objectAt(path, sentinel), 'logging a secret');
      expect(out.text()).toContain('logging a secret');
      expect(out.text()).not.toContain(sentinel);
      expect(out.text()).toContain('[redacted]');
    },
  );

  it('child loggers redact too', () => {
    const out = capture();
    const log = createLogger({ level: 'info', format, name: 'test', destination: out }).child({
      job: 'refresh',
    });
    log.info({ tokens: { refresh_token: 'sentinel-child' } }, 'refreshed');
    expect(out.text()).not.toContain('sentinel-child');
    expect(out.text()).toContain('[redacted]');
  });

  it('an error keeps its type, message and stack, and loses the secrets in its own properties', () => {
    const out = capture();
    const log = createLogger({ level: 'info', format, name: 'test', destination: out });
    const err = Object.assign(new TypeError('exchange failed'), {
      response: { access_token: 'sentinel-err-1', status: 400 },
      secret: 'sentinel-err-2',
    });
    log.warn({ err, other: err }, 'refresh failed');
    expect(out.text()).not.toContain('sentinel-err');
    expect(out.text()).toContain('exchange failed');
    expect(out.text()).toContain('TypeError');
    expect(out.text()).toContain('400');
    // the logged error itself is untouched
    expect(err.secret).toBe('sentinel-err-2');
  });

  it('secrets inside arrays and in child bindings are censored; the logged object is not changed', () => {
    const out = capture();
    const logged = { grants: [{ refreshToken: 'sentinel-arr' }], id: 'kept-1' };
    createLogger({ level: 'info', format, name: 'test', destination: out })
      .child({ token: 'sentinel-binding' })
      .info(logged, 'grants');
    expect(out.text()).not.toContain('sentinel-arr');
    expect(out.text()).not.toContain('sentinel-binding');
    expect(out.text()).toContain('kept-1');
    expect(logged.grants[0]!.refreshToken).toBe('sentinel-arr');
  });

  it('fields that are not secrets are kept', () => {
    const out = capture();
    const log = createLogger({ level: 'info', format, name: 'test', destination: out });
    log.info({ connectionId: 'conn-visible', tokens: { expiresIn: 3600 } }, 'refreshed');
    expect(out.text()).toContain('conn-visible');
    expect(out.text()).toContain('3600');
  });
});

describe('REDACT_PATHS', () => {
  it('covers every secret key at the top level and one and two levels deep', () => {
    for (const key of SECRET_KEYS) {
      expect(REDACT_PATHS).toContain(key);
      expect(REDACT_PATHS).toContain(`*.${key}`);
      expect(REDACT_PATHS).toContain(`*.*.${key}`);
    }
  });

  it('covers the request and response headers that carry credentials', () => {
    for (const path of [
      'req.headers.authorization',
      'req.headers.cookie',
      'req.headers["x-api-key"]',
      'res.headers["set-cookie"]',
      'headers.authorization',
    ]) {
      expect(REDACT_PATHS).toContain(path);
    }
  });
});
