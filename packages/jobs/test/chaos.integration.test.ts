import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllTracked, spawnTracked } from '@conduit/testing';

// The short chaos run (bench/chaos.ts): the real apps as processes, a private Redis, a private
// Postgres cluster, faults, SIGKILLs, a Redis restart, duplicated webhooks — about a minute.
const ROOT = join(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'conduit-chaos-test-'));
const out = join(dir, 'chaos.json');

afterAll(async () => {
  // The harness, its apps and its private Redis are one process group: none outlives a failure.
  await killAllTracked();
  rmSync(dir, { recursive: true, force: true });
});

function runChaos(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawnTracked(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/chaos.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('chaos › a short run', () => {
  it('keeps every invariant through faults, SIGKILLed workers, a Redis restart and duplicated webhooks', async () => {
    const { code, output } = await runChaos([
      '--connections',
      '300',
      '--minutes',
      '0.5',
      '--converge-timeout',
      '60',
      // the long-standing mix; each newer class (docs/chaos.md) has a window of its own, too long for npm test
      '--only',
      'sigkill,redis-restart,bad-secret',
      '--out',
      out,
    ]);
    expect(existsSync(out), output).toBe(true);
    const result = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
    // The one loss no client can prevent: the provider rotated a refresh token and answered a
    // worker that was SIGKILLed before it could store the answer (docs/chaos.md, finding 3).
    // It is traced to the killed process by the sandbox, never guessed from timing; everything
    // else must hold without exception.
    const died = result.diedInFlight as {
      lostTokens: number;
      reusedTokens: number;
      falseNeedsReauth: number;
      lostWebhooks: number;
    };
    if (died.lostTokens > 0) {
      console.error(
        `chaos (tolerated, docs/chaos.md finding 3): ${died.lostTokens} token(s) died in flight with a SIGKILLed worker`,
        result.violations,
      );
    }
    expect(result.violationsBeyondDiedInFlight, output).toEqual([]);
    expect(code, output).toBe((result.violations as string[]).length === 0 ? 0 : 1);
    const expected: Record<string, number> = {
      lostTokens: died.lostTokens,
      reusedTokens: died.reusedTokens,
      falseNeedsReauth: died.falseNeedsReauth,
      lostWebhooks: died.lostWebhooks,
    };
    for (const invariant of [
      'lostTokens',
      'reusedTokens',
      'concurrentRefreshes',
      'falseNeedsReauth',
      'missedRevocations',
      'lostWebhooks',
      'duplicateTranscripts',
      'stuckJobs',
    ]) {
      expect(result[invariant], invariant).toBe(expected[invariant] ?? 0);
    }
    if (died.lostTokens === 0) expect(result.violations, output).toEqual([]);
    expect(result.convergenceSeconds ?? result.convergenceSecondsExceptPermanent).toEqual(expect.any(Number));
    const happened = result.happened as { workerKills: number; webhooks: { accepted: number } };
    expect(happened.workerKills).toBeGreaterThan(0);
    expect(happened.webhooks.accepted).toBeGreaterThan(0);
  }, 240_000);
});
