// Prints the configuration reference: `--markdown` for docs/configuration.md, `--env` for .env.example.
//   npx tsx packages/config/src/print-docs.ts --env > .env.example
//   npx tsx packages/config/src/print-docs.ts --markdown > docs/configuration.md
import { renderEnvExample, renderMarkdown } from './docs.ts';

const format = process.argv[2];
if (format === '--markdown') process.stdout.write(renderMarkdown());
else if (format === '--env') process.stdout.write(renderEnvExample());
else {
  process.stderr.write('usage: print-docs.ts --markdown | --env\n');
  process.exitCode = 64;
}
