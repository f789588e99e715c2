// Entry point of `conduit` (bin/conduit.js loads it through tsx): real stdout/stderr, the
// context from the environment (imported only when a command needs it, so --help stays fast),
// and the exit code of the command.
import { processOutput } from './output.ts';
import { runCli } from './program.ts';

const code = await runCli(process.argv.slice(2), {
  output: processOutput(),
  openContext: async () => {
    const [{ loadDotEnv }, { openCliContext }] = await Promise.all([
      import('@conduit/config'),
      import('./context.ts'),
    ]);
    // `.env` at the repository root, under whatever the environment already sets.
    loadDotEnv(process.env);
    return openCliContext(process.env);
  },
});
// Explicit exit: a pool or timer some library keeps open must not keep the shell waiting.
// stdout and stderr are synchronous for files, pipes and terminals on Linux, so nothing is lost.
process.exit(code);
