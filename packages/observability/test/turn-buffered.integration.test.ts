// A process that ends in the same turn as it logs (process.exit, an uncaught exception) still
// writes those lines: stdout is turn-buffered, and the exit writes what is pending.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const LOGGER = join(import.meta.dirname, '../src/logger.ts');

function run(body: string): { stdout: string; status: number | null } {
  const script = `import { createLogger } from ${JSON.stringify(LOGGER)};
const log = createLogger({ level: 'info', format: 'json', name: 't' });
${body}`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { stdout: r.stdout, status: r.status };
}

const messages = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => (JSON.parse(l) as { msg: string }).msg);

describe('stdout log lines at exit', () => {
  it('keeps the lines of the last turn when the process exits in it', () => {
    const r = run(`for (let i = 0; i < 500; i++) log.info({ i }, 'line ' + i); process.exit(3);`);
    expect(r.status).toBe(3);
    expect(messages(r.stdout)).toEqual(Array.from({ length: 500 }, (_, i) => `line ${i}`));
  });

  it('keeps the lines logged just before an uncaught exception', () => {
    const r = run(`log.error('about to fail'); setImmediate(() => {}); throw new Error('boom');`);
    expect(r.status).toBe(1);
    expect(messages(r.stdout)).toEqual(['about to fail']);
  });
});
