// `npm run bench -- <name> [args]`: runs one benchmark by name.
const BENCHES: Record<string, () => Promise<{ run(args: string[]): Promise<void> }>> = {
  sandbox: () => import('./sandbox.ts'),
  sweep: () => import('./sweep.ts'),
  refresh: () => import('./refresh.ts'),
  webhooks: () => import('./webhooks.ts'),
  'token-api': () => import('./token-api.ts'),
  start: () => import('./start.ts'),
};

const [name, ...args] = process.argv.slice(2);
const load = name === undefined ? undefined : BENCHES[name];
if (!load) {
  console.error(`usage: npm run bench -- <name> [args]; benchmarks: ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}
await (await load()).run(args);
