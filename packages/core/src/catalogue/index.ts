export * from './types.ts';
export * from './providers.ts';
export * from './endpoints.ts';
export * from './lifetimes.ts';
export * from './declaration.ts';
export {
  BUILT_IN_PROVIDERS_DIR,
  loadDeclarations,
  providerFilesFrom,
  type DeclarationSource,
} from './load.ts';
