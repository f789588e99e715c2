// The provider catalogue: every declared provider, as data. The built-in declarations are the
// YAML files in packages/core/providers/ (../shared/PROVIDERS.md, docs/providers.md); an operator
// adds or overrides providers with CONDUIT_PROVIDERS_FILE, with no code change and no rebuild.
import { DeclarationError } from './declaration.ts';
import { builtInSources, fileSources, loadDeclarations, providerFilesFrom } from './load.ts';
import type { BuiltInProviderKey, ProviderKey, ProviderSpec } from './types.ts';

/**
 * Every declared provider by key, filled from the declarations when this module loads. A key
 * from outside (a URL, a job, the database) may name none: look it up with providerSpec().
 */
export const PROVIDERS = {} as Readonly<Record<BuiltInProviderKey, ProviderSpec>> &
  Readonly<Partial<Record<ProviderKey, ProviderSpec>>>;

/** Every declared provider's key, in declaration order. */
export const PROVIDER_KEYS: readonly ProviderKey[] = [];

export function isProviderKey(value: string): boolean {
  return Object.hasOwn(PROVIDERS, value);
}

/** The built-ins plus the declarations in `files`, checked; throws a DeclarationError listing every mistake. */
export function loadCatalogue(files: readonly string[] = []): Map<string, ProviderSpec> {
  return loadDeclarations([...builtInSources(), ...fileSources(files)]);
}

function install(specs: Map<string, ProviderSpec>): void {
  const table = PROVIDERS as Record<string, ProviderSpec>;
  for (const key of Object.keys(table)) delete table[key];
  for (const [key, spec] of specs) table[key] = spec;
  (PROVIDER_KEYS as ProviderKey[]).splice(0, PROVIDER_KEYS.length, ...specs.keys());
}

let loadProblem: DeclarationError | undefined;
let loadedFiles: readonly string[] = [];

/**
 * Makes the built-ins plus `files` the process's catalogue (what CONDUIT_PROVIDERS_FILE does at
 * start). A test that declares a provider in a temporary file calls this before starting anything.
 */
export function useProviderFiles(files: readonly string[]): void {
  install(loadCatalogue(files));
  loadProblem = undefined;
  loadedFiles = [...files];
}

/** The declaration files the catalogue holds besides the built-ins. */
export function catalogueFiles(): readonly string[] {
  return loadedFiles;
}

/** Why CONDUIT_PROVIDERS_FILE could not be loaded at start (the built-ins are in use then), if it could not. */
export function catalogueLoadProblem(): DeclarationError | undefined {
  return loadProblem;
}

try {
  useProviderFiles(providerFilesFrom(process.env.CONDUIT_PROVIDERS_FILE));
} catch (err) {
  if (!(err instanceof DeclarationError)) throw err;
  // Configuration reports this as one line per mistake (loadConfig); the built-ins still load.
  install(loadCatalogue());
  loadProblem = err;
  loadedFiles = [];
}

/** The declared provider; throws for a key no declaration names (a programming error by then). */
export function providerSpec(key: ProviderKey): ProviderSpec {
  const spec = PROVIDERS[key];
  if (spec === undefined) {
    throw new Error(`no provider "${key}" is declared; declared: ${PROVIDER_KEYS.join(', ')}`);
  }
  return spec;
}
