import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllTracked, killTree, runTracked, spawnTracked } from '../src/processes.ts';
import { waitFor } from '../src/wait.ts';

const ROOT = join(import.meta.dirname, '../../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');

afterAll(killAllTracked);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The first line a child writes. */
async function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
  const lines = createInterface({ input: stream });
  for await (const line of lines) {
    lines.close();
    return line;
  }
  throw new Error('the child wrote nothing');
}

describe('testing › processes a test starts', () => {
  it('killTree kills the whole group, the grandchild that tsx runs the script in included', async () => {
    const child = spawnTracked(TSX, ['-e', 'console.log(process.pid); setInterval(() => {}, 1000)'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const grandchild = Number(await firstLine(child.stdout!));
    expect(grandchild).not.toBe(child.pid);
    await killTree(child);
    await waitFor(() => !alive(grandchild), 10_000, 'the grandchild to be gone');
  });

  it('a test process that exits without its afterAll still kills the groups it started', async () => {
    // A process that starts a sleeper the tracked way, says its pid and exits at once.
    const script = [
      `import { spawnTracked } from ${JSON.stringify(join(ROOT, 'packages/testing/src/processes.ts'))};`,
      `const c = spawnTracked('sleep', ['300'], { stdio: 'ignore' });`,
      `console.log(c.pid);`,
      `process.exit(1);`,
    ].join('\n');
    const exit = await runTracked(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        cwd: ROOT,
      },
    );
    expect(exit.code, exit.stderr).toBe(1);
    const sleeper = Number(exit.stdout.trim());
    expect(sleeper).toBeGreaterThan(0);
    await waitFor(() => !alive(sleeper), 10_000, 'the sleeper to be gone');
  });
});
