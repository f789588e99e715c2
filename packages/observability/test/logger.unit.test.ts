import { describe, expect, it } from 'vitest';
import { createLogger, createUserIdHasher } from '../src/index.ts';
import { capture } from './capture.ts';

describe('createLogger', () => {
  it('json format writes one JSON object per line, with the level as a word, the name and an ISO time', () => {
    const out = capture();
    createLogger({ level: 'info', format: 'json', name: 'worker', destination: out }).info(
      { jobId: 'j1' },
      'done',
    );
    expect(out.lines).toHaveLength(1);
    const line = JSON.parse(out.lines[0] ?? '') as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'info', name: 'worker', jobId: 'j1', msg: 'done' });
    expect(new Date(line.time as string).toISOString()).toBe(line.time);
  });

  it('pretty format writes readable lines, synchronously, to the given destination', () => {
    const out = capture();
    createLogger({ level: 'info', format: 'pretty', name: 'api', destination: out }).warn(
      { jobId: 'j2' },
      'slow',
    );
    expect(out.text()).toMatch(/WARN.*\(api\).*slow/);
    expect(out.text()).toContain('"jobId":"j2"');
    expect(out.lines).toHaveLength(1); // one line per entry, fields included
    expect(() => JSON.parse(out.text())).toThrow();
  });

  it('writes nothing below its level, and nothing at all when silent', () => {
    const out = capture();
    const log = createLogger({ level: 'warn', format: 'json', name: 't', destination: out });
    log.info('hidden');
    log.error('shown');
    expect(out.lines).toHaveLength(1);
    const silent = capture();
    createLogger({ level: 'silent', format: 'pretty', name: 't', destination: silent }).fatal('hidden');
    expect(silent.lines).toHaveLength(0);
  });

  it('with a user id hasher, userId and ownerId fields are written hashed', () => {
    const out = capture();
    const hasher = createUserIdHasher('a-key-of-sixteen+');
    const log = createLogger({
      level: 'info',
      format: 'json',
      name: 't',
      destination: out,
      userIdHasher: hasher,
    });
    log.info({ userId: 'user-raw-42', ownerId: 'owner-raw-7' }, 'hello');
    expect(out.text()).not.toContain('user-raw-42');
    expect(out.text()).not.toContain('owner-raw-7');
    expect(JSON.parse(out.text())).toMatchObject({
      userId: hasher('user-raw-42'),
      ownerId: hasher('owner-raw-7'),
    });
  });
});
