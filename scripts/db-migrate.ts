// `npm run db:migrate`: creates the database if it does not exist yet, then applies every
// committed migration with our runner (packages/db/src/migrate.ts), which keeps Prisma's
// `_prisma_migrations` bookkeeping, so `prisma migrate deploy/status/dev` agree with it.
// The one command for dev, CI and compose; `npm start` does the same before the apps start.
import { loadConfigOrExit, loadDotEnv } from '@conduit/config';
import { MigrationError } from '@conduit/db/migrate';
import { DatastoreUnreachableError } from '@conduit/runtime/reachability';
import { prepareDatabase } from './start/prepare-database.ts';

loadDotEnv(process.env);
const config = loadConfigOrExit(process.env, 'db:migrate');
try {
  const { created, applied } = await prepareDatabase(
    config.database.url,
    config.runtime.datastoreWaitSeconds * 1000,
  );
  const name = new URL(config.database.url).pathname.slice(1);
  if (created) console.log(`created database ${name}`);
  console.log(applied.length ? `applied ${applied.join(', ')}` : `database ${name} is up to date`);
} catch (error) {
  if (error instanceof DatastoreUnreachableError) {
    console.error(`conduit db:migrate: ${error.message}`);
    process.exit(error.isConfiguration ? 78 : 69);
  }
  if (error instanceof MigrationError) {
    console.error(`conduit db:migrate: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
