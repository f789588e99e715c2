import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllTracked, spawnTracked } from '@conduit/testing';

const MAIN = join(import.meta.dirname, '../src/main.ts');

afterAll(killAllTracked);

describe('sandbox process', () => {
  it('reads its environment, logs one line when ready, and stops cleanly on SIGTERM', async () => {
    const child = spawnTracked(process.execPath, ['--import', 'tsx', MAIN], {
      env: {
        ...process.env,
        CONDUIT_SANDBOX_PORT: '0',
        CONDUIT_SANDBOX_SEED: '9',
        CONDUIT_SANDBOX_FAULTS: '{"google":{"api":{"latencyMs":1}}}',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines = createInterface({ input: child.stdout! });
    const [first] = (await once(lines, 'line')) as [string];
    const ready = JSON.parse(first) as { msg: string; url: string; seed: number };
    expect(ready).toMatchObject({
      msg: 'provider sandbox ready',
      seed: 9,
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
    });
    const faults = (await (await fetch(`${ready.url}/_sandbox/faults`)).json()) as unknown;
    expect(faults).toEqual({ faults: { google: { api: { latencyMs: 1 } } } });
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });
});
