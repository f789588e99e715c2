import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CONFIG_GROUPS,
  CONFIG_VARIABLES,
  describeConfig,
  loadConfig,
  renderEnvExample,
} from '../src/index.ts';
import { PRODUCTION_ENV } from './helpers.ts';

const ROOT = join(import.meta.dirname, '../../..');
const NAMES = CONFIG_VARIABLES.map((v) => v.name);

/** The names loadConfig looks up in this environment. */
function namesRead(env: NodeJS.ProcessEnv): Set<string> {
  const read = new Set<string>();
  const tracked = new Proxy(env, {
    get(target, key) {
      if (typeof key === 'string') read.add(key);
      return Reflect.get(target, key);
    },
  });
  loadConfig(tracked, { isTTY: false });
  return read;
}

describe('CONFIG_VARIABLES', () => {
  it('lists exactly the variables loadConfig reads, in development and in production', () => {
    expect([...namesRead({})].sort()).toEqual([...NAMES].sort());
    expect([...namesRead({ ...PRODUCTION_ENV })].sort()).toEqual([...NAMES].sort());
  });

  it('names each variable once, and describes every one', () => {
    expect(new Set(NAMES).size).toBe(NAMES.length);
    for (const v of CONFIG_VARIABLES) expect(v.description.length, v.name).toBeGreaterThan(10);
  });

  it('holds the five variables of each provider, under CONDUIT_<PROVIDER>_', () => {
    for (const prefix of ['FATHOM', 'SPOTIFY', 'GOOGLE', 'DISCORD', 'GITHUB', 'GITHUB_APP']) {
      for (const suffix of ['CLIENT_ID', 'CLIENT_SECRET', 'AUTHORIZE_URL', 'TOKEN_URL', 'API_BASE_URL']) {
        expect(NAMES).toContain(`CONDUIT_${prefix}_${suffix}`);
      }
    }
  });

  it('secrets required in production have no production default', () => {
    for (const v of CONFIG_VARIABLES.filter((v) => v.requiredWhen === 'NODE_ENV=production')) {
      expect(v.productionDefault, v.name).toBeUndefined();
      expect(v.developmentDefault, v.name).toBeDefined();
    }
  });

  it('describeConfig groups every variable, in group order', () => {
    const groups = describeConfig();
    expect(groups.map((g) => g.group)).toEqual([...CONFIG_GROUPS]);
    expect(groups.flatMap((g) => g.variables.map((v) => v.name))).toEqual(NAMES);
  });
});

describe('generated docs', () => {
  const envExample = readFileSync(join(ROOT, '.env.example'), 'utf8');
  const markdown = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');

  it('.env.example lists every variable in CONFIG_VARIABLES, and nothing else', () => {
    // Each variable is a paragraph of description ending in its commented-out assignment.
    const listed = [...envExample.matchAll(/^#? ?([A-Z][A-Z0-9_]*)=.*\n(?:\n|$)/gm)].map((m) => m[1]);
    expect(listed).toEqual(NAMES);
  });

  it('.env.example is what print-docs.ts --env generates (regenerate it after changing a variable)', () => {
    expect(envExample).toBe(renderEnvExample());
  });

  it('docs/configuration.md has a row for every variable', () => {
    for (const name of NAMES) expect(markdown, name).toMatch(new RegExp(`^\\| \`${name}\` +\\|`, 'm'));
  });
});
