import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTracked } from '@conduit/testing';
import { Output } from '../src/output.ts';
import { runCli } from '../src/program.ts';

const BIN = join(import.meta.dirname, '../bin/conduit.js');

async function run(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const output = new Output({ out: (t) => (stdout += t), err: (t) => (stderr += t) });
  const code = await runCli(argv, {
    output,
    openContext: () => {
      throw new Error('this command line should not need a database');
    },
  });
  return { code, stdout, stderr };
}

/** The whole of stderr is one line holding one sentence. */
function expectOneSentence(stderr: string) {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^conduit: [^\n]+[.)]$/);
  expect(lines[0]!.replace(/^conduit: /, '').match(/[.!?](\s|$)/g)?.length ?? 0).toBeLessThanOrEqual(2);
}

const COMMANDS = [
  [],
  ['status'],
  ['connections'],
  ['connections', 'list'],
  ['refresh'],
  ['sync'],
  ['deactivate-expired'],
  ['notify-reauth'],
  ['webhooks'],
  ['webhooks', 'replay'],
  ['keys'],
  ['keys', 'rotate'],
];

describe('cli › usage', () => {
  it.each(COMMANDS.map((c) => [c.join(' ') || '(top level)', c] as const))(
    '--help works for %s and exits 0',
    async (_name, command) => {
      const r = await run([...command, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: conduit/);
      expect(r.stderr).toBe('');
    },
  );

  it('`help <command>` prints the same help', async () => {
    const r = await run(['help', 'deactivate-expired']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--dry-run');
  });

  it.each([
    [
      ['connections', 'list', '--limit', 'abc'],
      /--limit must be a whole number from 1 to 10000, not "abc"\./,
    ],
    [['connections', 'list', '--limit', '0'], /--limit must be a whole number/],
    [['connections', 'list', '--status', 'broken'], /--status must be one of connected, token_expired/],
    [['connections', 'list', '--provider', 'myspace'], /--provider must be one of discord, fathom, github/],
    [['refresh', 'not-a-uuid'], /a connection id is a UUID/],
    [['sync', '3f1c2a9e-5b7d-4c1e-9a8f-2d6b4e0c7a15', '--limit', '-3'], /unknown option|--limit must be/],
    [['keys', 'rotate', '--batch', '1.5'], /--batch must be a whole number/],
    [['status', '--bogus'], /unknown option '--bogus'/],
    [['refresh'], /missing required argument 'connectionId'/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['refresh', 'a', 'b'], /too many arguments/],
  ])('a bad argument (%j) is a one-sentence error and exit code 2', async (argv, message) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expectOneSentence(r.stderr);
  });

  it('a group without its subcommand shows its help and exits 2', async () => {
    const r = await run(['keys']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('rotate');
  });
});

describe('cli › the installed bin', () => {
  it('`conduit --help` runs the TypeScript source through tsx', async () => {
    const { stdout } = await runTracked(process.execPath, [BIN, '--help']);
    expect(stdout).toContain('deactivate-expired');
  });

  it('exits 2 with one sentence on stderr for a bad argument', async () => {
    const exit = await runTracked(process.execPath, [BIN, 'sync', 'nope']);
    expect(exit).toMatchObject({ code: 2, stdout: '' });
    expectOneSentence(exit.stderr);
  });

  it('exits 78 when the configuration is invalid, naming the setting', async () => {
    const exit = await runTracked(process.execPath, [BIN, 'status'], {
      env: { ...process.env, NODE_ENV: 'test', CONDUIT_ENCRYPTION_KEYS: 'k1:c2hvcnQ=' },
    });
    expect(exit).toMatchObject({ code: 78, stdout: '' });
    expect(exit.stderr).toMatch(/^conduit: the configuration is invalid/);
    expect(exit.stderr).toContain('CONDUIT_ENCRYPTION_KEYS');
    expect(exit.stderr).not.toContain('c2hvcnQ=');
  });
});
