// The client as an application gets it: `npm pack`, installed from the tarball into a project
// outside the repository, run by plain Node against a live api + sandbox + workers.
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, startStack, type Stack } from '../../../apps/api/test/support/stack.ts';

const run = promisify(execFile);
const CLIENT_DIR = join(import.meta.dirname, '..');
let s: Stack;
let project: string;

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'conduit-client-app-'));
  s = await startStack({ label: 'packed-client' });
  s.startWorkers();
}, 120_000);

afterAll(async () => {
  await s?.close();
  if (project) rmSync(project, { recursive: true, force: true });
});

describe('client › packed and installed outside the repository', () => {
  it('an app with only the tarball installed connects a user, gets a token, calls the proxy and reads meetings', async () => {
    const { stdout: packed } = await run('npm', ['pack', '--json', '--pack-destination', project], {
      cwd: CLIENT_DIR,
      timeout: 120_000,
    });
    const [pack] = JSON.parse(packed.slice(packed.indexOf('['))) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    const { filename, files } = pack!;
    expect(files.map((f) => f.path)).toEqual(
      expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'README.md']),
    );
    expect(files.some((f) => f.path.startsWith('src/') || f.path.startsWith('test/'))).toBe(false);

    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'an-app', private: true, type: 'module' }),
    );
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', join(project, filename)], {
      cwd: project,
      timeout: 120_000,
    });
    // Nothing but the client came along: it depends on nothing.
    expect(readdirSync(join(project, 'node_modules')).filter((n) => !n.startsWith('.'))).toEqual([
      '@conduit',
    ]);
    const installed = JSON.parse(
      readFileSync(join(project, 'node_modules/@conduit/client/package.json'), 'utf8'),
    );
    expect(installed.dependencies ?? {}).toEqual({});
    copyFileSync(join(import.meta.dirname, 'packed-app/app.mjs'), join(project, 'app.mjs'));

    const email = `packed-${randomUUID().slice(0, 8)}@example.com`;
    const seed = await s.sandboxGrant('fathom', email);
    await s.sandboxPost('/_sandbox/fathom/meetings', { grantId: seed.grantId, count: 3 });
    const ownerId = `owner-${randomUUID()}`;
    const { stdout } = await run('node', ['app.mjs'], {
      cwd: project,
      timeout: 60_000,
      env: {
        PATH: process.env.PATH,
        CONDUIT_URL: s.publicUrl,
        CONDUIT_API_KEY: API_KEY,
        OWNER_ID: ownerId,
        USER_EMAIL: email,
      },
    });
    const seen = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;

    const row = await s.ctx.db.connection.findUniqueOrThrow({ where: { id: seen.connectionId as string } });
    const stored = s.ctx.vault.decrypt(row.accessTokenEnc!);
    expect(seen).toMatchObject({
      status: 'connected',
      tokenSha256: createHash('sha256').update(stored).digest('hex'),
      expiresAt: row.tokenExpiresAt!.toISOString(),
      proxiedStatus: 200,
      proxiedItems: 3,
      meetings: 3,
      notFound: 'not_found',
    });
    expect(typeof seen.meetingTitle).toBe('string');
    expect(row.ownerId).toBe(ownerId);
  }, 240_000);
});
