// Reading declaration files: the built-in ones shipped in packages/core/providers/, then the
// operator's (CONDUIT_PROVIDERS_FILE, comma-separated), each adding providers or replacing them.
// A declaration may `extends: <key>` a provider declared before it (or in the same file) and
// change only some fields; objects merge field by field, lists and values replace.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, isScalar, LineCounter, parseDocument, type Node } from 'yaml';
import { DeclarationError, parseDeclaration, type DeclarationProblem } from './declaration.ts';
import type { ProviderSpec } from './types.ts';

/** Where the built-in declarations live (one file per provider family). */
export const BUILT_IN_PROVIDERS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../providers');

export interface DeclarationSource {
  /** how problems name the file */
  file: string;
  text: string;
}

type Raw = Record<string, unknown>;

function isPlainObject(value: unknown): value is Raw {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function merge(base: unknown, change: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(change)) return change;
  const out: Raw = { ...base };
  for (const [k, v] of Object.entries(change)) out[k] = merge(base[k], v);
  return out;
}

/**
 * Parses declaration sources in order into one catalogue. Later sources override earlier ones by
 * key. Every problem in every source is collected before throwing, so one run shows them all.
 */
export function loadDeclarations(sources: readonly DeclarationSource[]): Map<string, ProviderSpec> {
  const raws = new Map<string, Raw>();
  const specs = new Map<string, ProviderSpec>();
  const problems: DeclarationProblem[] = [];
  for (const { file, text } of sources) {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, merge: true, prettyErrors: false });
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        problems.push({
          file,
          line: lines.linePos(e.pos[0]).line,
          message: `not valid YAML: ${e.message.split('\n')[0]}`,
        });
      }
      continue;
    }
    // The line of the deepest key along `path` that the file holds (a missing field: its parent's).
    const lineOf = (path: readonly (string | number)[]): number | undefined => {
      let node: unknown = doc.contents;
      let line: number | undefined;
      for (const segment of path) {
        if (!isMap(node)) break;
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
        if (pair === undefined) break;
        const offset = (pair.key as Node).range?.[0];
        if (offset !== undefined) line = lines.linePos(offset).line;
        node = pair.value;
      }
      return line;
    };
    const top: unknown = doc.toJS();
    if (top === null || top === undefined) continue;
    if (!isPlainObject(top)) {
      problems.push({
        file,
        line: 1,
        message: 'expected a mapping of provider keys to declarations, e.g. "acme:\\n  displayName: Acme"',
      });
      continue;
    }
    for (const [key, value] of Object.entries(top)) {
      // ".name": a template for YAML anchors, not a provider
      if (key.startsWith('.')) continue;
      if (!isPlainObject(value)) {
        problems.push({
          file,
          line: lineOf([key]),
          provider: key,
          message: 'expected a declaration (a mapping with displayName, endpoints, …)',
        });
        continue;
      }
      let raw: unknown = value;
      if ('extends' in value) {
        const { extends: parent, ...rest } = value;
        const base = typeof parent === 'string' ? raws.get(parent) : undefined;
        if (base === undefined) {
          problems.push({
            file,
            line: lineOf([key, 'extends']),
            provider: key,
            field: 'extends',
            message: `names ${JSON.stringify(parent)}, which is not declared before this point; declared: ${[...raws.keys()].join(', ') || '(none)'}`,
          });
          continue;
        }
        raw = merge(base, rest);
      }
      const parsed = parseDeclaration(file, key, raw, lineOf);
      if (!parsed.ok) {
        problems.push(...parsed.problems);
        continue;
      }
      raws.set(key, raw as Raw);
      specs.set(key, parsed.spec);
    }
  }
  if (problems.length > 0) throw new DeclarationError(problems);
  return specs;
}

/** The built-in declaration files, in name order. */
export function builtInSources(dir: string = BUILT_IN_PROVIDERS_DIR): DeclarationSource[] {
  return readdirSync(dir)
    .filter((name) => /\.(ya?ml|json)$/.test(name))
    .sort()
    .map((name) => ({ file: join(dir, name), text: readFileSync(join(dir, name), 'utf8') }));
}

/** `CONDUIT_PROVIDERS_FILE`: one path, or several separated by commas. */
export function providerFilesFrom(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

export function fileSources(paths: readonly string[]): DeclarationSource[] {
  const problems: DeclarationProblem[] = [];
  const sources: DeclarationSource[] = [];
  // `npm start` and `npm run … -w` run apps inside their workspace; npm's INIT_CWD is where the
  // operator typed the command, which is what a relative path means to them.
  const base = process.env.INIT_CWD ?? process.cwd();
  for (const path of paths) {
    try {
      sources.push({ file: path, text: readFileSync(resolve(base, path), 'utf8') });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      problems.push({
        file: path,
        message: `cannot be read (${code ?? (err as Error).message}); CONDUIT_PROVIDERS_FILE lists declaration files, comma-separated, relative to ${base}`,
      });
    }
  }
  if (problems.length > 0) throw new DeclarationError(problems);
  return sources;
}
