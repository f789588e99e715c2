// Entry point of `conduit` (bin/conduit.js loads it through tsx): real stdout/stderr, the
// context from the environment, and the exit code of the command.
import { loadDotEnv } from '@conduit/config';
import { openCliContext } from './context.ts';
import { processOutput } from './output.ts';
import { runCli } from './program.ts';

// `.env` at the repository root, under whatever the environment already sets.
loadDotEnv(process.env);
const code = await runCli(process.argv.slice(2), {
  output: processOutput(),
  openContext: () => openCliContext(process.env),
});
// Explicit exit: a pool or timer some library keeps open must not keep the shell waiting.
// stdout and stderr are synchronous for files, pipes and terminals on Linux, so nothing is lost.
process.exit(code);
