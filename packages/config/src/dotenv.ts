// `.env` at the repository root, for every app, the CLI and `npm start`: `cp .env.example .env`
// and edit. The environment wins over the file, so a one-off `FOO=1 npm start` still works.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'dotenv';
import { REPOSITORY_ROOT } from './groups/runtime.ts';

export const DOTENV_FILE = join(REPOSITORY_ROOT, '.env');

/** Adds the file's variables that the environment does not set; returns their names. */
export function loadDotEnv(env: NodeJS.ProcessEnv = process.env, file: string = DOTENV_FILE): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const added: string[] = [];
  for (const [name, value] of Object.entries(parse(text))) {
    if (env[name] !== undefined) continue;
    env[name] = value;
    added.push(name);
  }
  return added;
}
