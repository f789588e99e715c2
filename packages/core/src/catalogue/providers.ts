// The provider catalogue: every declared provider, as data. The built-in declarations are the
// YAML files in packages/core/providers/ (../shared/PROVIDERS.md, docs/providers.md); an operator
// adds or overrides providers with CONDUIT_PROVIDERS_FILE, with no code change and no rebuild.
import { DeclarationError } from './declaration.ts';
import { builtInSources, fileSources, loadDeclarations, providerFilesFrom } from './load.ts';
import type { ProviderKey, ProviderSpec } from './types.ts';

/** Every declared provider by key. Filled from the declarations when this module loads. */
export const PROVIDERS = {} as Readonly<Record<ProviderKey, ProviderSpec>>;

/** The built-ins plus the declarations in `files`, checked; throws a DeclarationError listing every mistake. */
export function loadCatalogue(files: readonly string[] = []): Map<string, ProviderSpec> {
  return loadDeclarations([...builtInSources(), ...fileSources(files)]);
}

function install(specs: Map<string, ProviderSpec>): void {
  const table = PROVIDERS as Record<string, ProviderSpec>;
  for (const key of Object.keys(table)) delete table[key];
  for (const [key, spec] of specs) table[key] = spec;
}

let loadProblem: DeclarationError | undefined;

/**
 * Makes the built-ins plus `files` the process's catalogue (what CONDUIT_PROVIDERS_FILE does at
 * start). A test that declares a provider in a temporary file calls this before starting anything.
 */
export function useProviderFiles(files: readonly string[]): void {
  install(loadCatalogue(files));
  loadProblem = undefined;
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
}

export function providerSpec(key: ProviderKey): ProviderSpec {
  return PROVIDERS[key];
}
