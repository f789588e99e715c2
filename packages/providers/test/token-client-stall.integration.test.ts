// A worker starved of CPU (or paused by a long GC) past its answer deadline, while the provider's
// answer is already in its socket: after the stall Node runs timers before it reads sockets, so a
// plain timeout would abort the request and throw away the rotated refresh token (issue 10,
// "overload"). The deadline gives the loop one turn to read what has arrived. The sandbox runs
// as a process of its own, so it answers while this process is blocked.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROVIDERS, resolveEndpoints, type ProviderKey } from '@conduit/core';
import { killTree, spawnTracked, waitFor } from '@conduit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenClient, type ProviderClientConfig } from '../src/index.ts';

const PORT = 18050;
const URL_ = `http://127.0.0.1:${PORT}`;
const ROOT = join(import.meta.dirname, '../../..');
let sandbox: ChildProcess | undefined;
const children: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'conduit-stall-'));

async function control<T>(path: string, body?: unknown, method = 'POST'): Promise<T> {
  const res = await fetch(`${URL_}/_sandbox${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`sandbox ${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

beforeAll(async () => {
  sandbox = spawnTracked(process.execPath, ['--import', 'tsx', 'apps/sandbox/src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, CONDUIT_SANDBOX_PORT: String(PORT), LOG_LEVEL: 'warn', LOG_FORMAT: 'json' },
    stdio: 'ignore',
  });
  await waitFor(
    () =>
      fetch(`${URL_}/_sandbox/report`).then(
        (r) => r.ok,
        () => false,
      ),
    60_000,
    'the sandbox process to answer',
    100,
  );
}, 90_000);

afterAll(async () => {
  for (const c of children.splice(0)) await killTree(c);
  await killTree(sandbox);
  rmSync(dir, { recursive: true, force: true });
});

/** Blocks this thread (no timers, no I/O) until `file` exists and then `moreMs` longer. */
function blockUntil(file: string, moreMs: number, maxMs: number): void {
  const end = Date.now() + maxMs;
  while (!existsSync(file) && Date.now() < end) {
    // spin: nothing else of this process runs meanwhile
  }
  const until = Date.now() + moreMs;
  while (Date.now() < until) {
    // spin
  }
}

function client(): TokenClient {
  const providers: Partial<Record<ProviderKey, ProviderClientConfig>> = {
    discord: {
      clientId: 'conduit-discord',
      clientSecret: 'sandbox-secret-discord',
      tokenUrl: resolveEndpoints(PROVIDERS.discord, { sandboxUrl: URL_ }).tokenUrl,
    },
  };
  return new TokenClient({
    providers,
    timeouts: { connectMs: 200, headersMs: 300, bodyMs: 300 },
    rateLimitDefaultWaitMs: 60_000,
  });
}

const BOUNDS = [
  ['a caller signal', () => ({ signal: AbortSignal.timeout(500), answerDeadlineMs: 300 })],
  ['a call deadline (the refresh path)', () => ({ deadlineMs: 500, answerDeadlineMs: 300 })],
] as const;

describe('token client › a stalled process', () => {
  it('ends a call whose answer never comes at its call deadline, before the longer answer deadline', async () => {
    const tokens = client();
    try {
      const { grants } = await control<{ grants: Array<{ grantId: string; refreshToken: string }> }>(
        '/grants',
        {
          provider: 'discord',
        },
      );
      await control('/holds', { provider: 'discord', endpoint: 'token' });
      const started = Date.now();
      const outcome = await tokens.refresh('discord', grants[0]!.refreshToken, {
        deadlineMs: 300,
        answerDeadlineMs: 20_000,
      });
      expect(outcome).toMatchObject({ kind: 'transient', cause: 'timeout' });
      expect(outcome.kind === 'transient' && outcome.detail).toContain("within 300 ms (the call's deadline)");
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      await control('/holds/release', {}).catch(() => undefined);
      await tokens.close();
    }
  }, 30_000);

  it.each(BOUNDS)(
    'keeps an answer that arrived while its loop was blocked past the deadline (%s)',
    async (_, bound) => {
      const tokens = client();
      try {
        const { grants } = await control<{ grants: Array<{ grantId: string; refreshToken: string }> }>(
          '/grants',
          {
            provider: 'discord',
          },
        );
        const grant = grants[0]!;
        await control('/holds', { provider: 'discord', endpoint: 'token' });
        const answer = tokens.refresh('discord', grant.refreshToken, bound());
        await waitFor(
          async () =>
            (await control<{ holds: Array<{ parked: number }> }>('/holds', undefined, 'GET')).holds.some(
              (h) => h.parked > 0,
            ),
          10_000,
          'the request to be parked at the sandbox',
        );
        // Another process releases the hold (the sandbox rotates and answers) while this one is
        // blocked well past both deadlines.
        const released = join(dir, 'released');
        children.push(
          spawnTracked(
            process.execPath,
            [
              '--input-type=module',
              '-e',
              `await fetch(${JSON.stringify(`${URL_}/_sandbox/holds/release`)}, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }); (await import('node:fs')).writeFileSync(${JSON.stringify(released)}, '1');`,
            ],
            { stdio: 'ignore' },
          ),
        );
        blockUntil(released, 1_000, 30_000);
        const outcome = await answer;
        expect(outcome.kind).toBe('tokens');
        const state = await control<{ refreshToken: string; family: string }>(
          `/grants/${grant.grantId}`,
          undefined,
          'GET',
        );
        expect(state.family).toBe('active');
        expect(outcome.kind === 'tokens' && outcome.refreshToken).toBe(state.refreshToken);
      } finally {
        await control('/holds/release', {}).catch(() => undefined);
        await tokens.close();
      }
    },
    60_000,
  );
});
