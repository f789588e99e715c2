// The `conduit` command line: commander wiring only. Each command is a function of an
// AppContext and an Output (commands/*), so tests call them without spawning a process.
import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import type { AppContext } from '@conduit/runtime';
import { CliError, EXIT } from './errors.ts';
import { LIST_LIMIT, POLL_MS, ROTATE_BATCH, SYNC_LIMIT, WEBHOOKS_LIMIT, WEBHOOK_STATUSES } from './limits.ts';
import type { Output } from './output.ts';

// Only commander and the few modules above load for `--help` and `--version`: each command, the
// argument checks and the database error texts are imported when an action runs (Prisma,
// BullMQ and the config schema together take seconds to load, --help must take well under one).
const args = () => import('./args.ts');
const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

export interface CliDeps {
  output: Output;
  /** Builds the context the first time a command needs one (never for --help). */
  openContext(): AppContext | Promise<AppContext>;
}

/** Runs one command line (without `node conduit`) and returns its exit code. */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  const { output } = deps;
  let ctx: AppContext | undefined;
  let code: number = EXIT.ok;
  const program = buildProgram(output, async (command) => {
    ctx ??= await deps.openContext();
    code = await command(ctx);
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (err) {
    return await reportError(err, output);
  } finally {
    await ctx?.close().catch(() => undefined);
  }
}

type Run = (command: (ctx: AppContext) => Promise<number>) => Promise<void>;

function buildProgram(out: Output, run: Run): Command {
  const program = new Command('conduit')
    .description('Operate Conduit: connection health, refreshes, syncs, notifications and key rotation.')
    .version(VERSION, '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => out.rawOut(text),
      writeErr: (text) => out.rawErr(text),
      outputError: (text, write) => write(commanderSentence(text)),
    });

  program
    .command('status')
    .description(
      'Connections per provider: counts by status, access tokens expired or expiring within 1 h and 24 h, connected ones without a refresh token.',
    )
    .option('--json', 'print the report as JSON')
    .action((opts: { json?: boolean }) =>
      run(async (ctx) => (await import('./commands/status.ts')).statusCommand(ctx, out, opts)),
    );

  const connections = program
    .command('connections')
    .description('Inspect connections (safe fields only; owners hashed).');
  connections
    .command('list')
    .description('List connections, newest first.')
    .option(
      '--status <status>',
      'only this status: connected, token_expired, needs_reauth, error or disconnected',
    )
    .option('--provider <provider>', 'only this provider, e.g. spotify')
    .option(
      '--limit <n>',
      `at most this many (${LIST_LIMIT.min}–${LIST_LIMIT.max})`,
      String(LIST_LIMIT.default),
    )
    .option('--json', 'print them as JSON')
    .action(async (opts: { status?: string; provider?: string; limit: string; json?: boolean }) => {
      const a = await args();
      const parsed = {
        status: a.parseStatus(opts.status),
        provider: a.parseProvider(opts.provider),
        limit: a.parseCount(opts.limit, '--limit', LIST_LIMIT)!,
        json: opts.json,
      };
      return run(async (ctx) =>
        (await import('./commands/connections-list.ts')).connectionsListCommand(ctx, out, parsed),
      );
    });
  connections
    .command('get')
    .description('Show one connection: status and why, token expiries, refresh token, last refresh and sync.')
    .argument('<connectionId>', 'the connection (UUID)')
    .option('--json', 'print it as JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const connectionId = (await args()).parseConnectionId(id);
      return run(async (ctx) =>
        (await import('./commands/connections-get.ts')).connectionsGetCommand(ctx, out, connectionId, opts),
      );
    });

  program
    .command('disconnect')
    .description(
      'Disconnect one connection as its user would: tokens wiped, status disconnected (with its event), the grant revoked at the provider where it can be. Needs --yes.',
    )
    .argument('<connectionId>', 'the connection (UUID)')
    .option('--yes', 'really disconnect it')
    .action(async (id: string, opts: { yes?: boolean }) => {
      const connectionId = (await args()).parseConnectionId(id);
      return run(async (ctx) =>
        (await import('./commands/disconnect.ts')).disconnectCommand(ctx, out, connectionId, opts),
      );
    });

  program
    .command('purge')
    .description(
      "Delete a disconnected connection's synced data now (meetings, transcripts, webhook deliveries, webhooks), as the retention sweep does after CONDUIT_DISCONNECTED_RETENTION_DAYS; its status history stays. Needs --yes.",
    )
    .argument('<connectionId>', 'the connection (UUID)')
    .option('--yes', 'really purge it')
    .option('--json', 'print what was deleted as JSON')
    .action(async (id: string, opts: { yes?: boolean; json?: boolean }) => {
      const connectionId = (await args()).parseConnectionId(id);
      return run(async (ctx) =>
        (await import('./commands/purge.ts')).purgeCommand(ctx, out, connectionId, opts),
      );
    });

  program
    .command('refresh')
    .description(
      'Refresh one connection now, under the same lock and rules as the workers, and print the outcome.',
    )
    .argument('<connectionId>', 'the connection (UUID)')
    .action(async (id: string) => {
      const connectionId = (await args()).parseConnectionId(id);
      return run(async (ctx) =>
        (await import('./commands/refresh.ts')).refreshCommand(ctx, out, connectionId),
      );
    });

  program
    .command('sync')
    .description(
      'Queue a Fathom sync of one connection now. With --full it follows the job to its end with a progress bar (--no-follow to only queue it).',
    )
    .argument('<connectionId>', 'the connection (UUID)')
    .option('--full', 'sync everything, not only what is new since the last sync')
    .option('--limit <n>', 'stop after this many meetings')
    .option('--follow', 'follow the job until it ends (the default with --full)')
    .option('--no-follow', 'only queue the job')
    .option(
      '--poll-ms <ms>',
      `how often to look at the job while following (${POLL_MS.min}–${POLL_MS.max})`,
      String(POLL_MS.default),
    )
    .action(
      async (id: string, opts: { full?: boolean; limit?: string; follow?: boolean; pollMs: string }) => {
        const a = await args();
        const connectionId = a.parseConnectionId(id);
        const parsed = {
          full: opts.full,
          limit: a.parseCount(opts.limit, '--limit', SYNC_LIMIT),
          follow: opts.follow ?? opts.full === true,
          pollMs: a.parseCount(opts.pollMs, '--poll-ms', POLL_MS),
        };
        return run(async (ctx) =>
          (await import('./commands/sync.ts')).syncCommand(ctx, out, connectionId, parsed),
        );
      },
    );

  program
    .command('deactivate-expired')
    .description(
      'Move connections that can no longer refresh to needs_reauth (with event and notification) and list the owners who must reconnect.',
    )
    .option('--dry-run', 'list them, change nothing')
    .action((opts: { dryRun?: boolean }) =>
      run(async (ctx) =>
        (await import('./commands/deactivate-expired.ts')).deactivateExpiredCommand(ctx, out, opts),
      ),
    );

  program
    .command('notify-reauth')
    .description(
      'Queue a connection.needs_reauth notification for every needs_reauth connection that has none pending or delivered (safe to repeat).',
    )
    .action(() =>
      run(async (ctx) => (await import('./commands/notify-reauth.ts')).notifyReauthCommand(ctx, out)),
    );

  const webhooks = program.command('webhooks').description('Stored webhook deliveries.');
  webhooks
    .command('list')
    .description('List stored deliveries, newest first, with the ids `webhooks replay` takes.')
    .option('--status <status>', `only this status: ${WEBHOOK_STATUSES.join(', ')}`)
    .option('--provider <provider>', 'only this provider, e.g. fathom')
    .option(
      '--limit <n>',
      `at most this many (${WEBHOOKS_LIMIT.min}–${WEBHOOKS_LIMIT.max})`,
      String(WEBHOOKS_LIMIT.default),
    )
    .option('--json', 'print them as JSON')
    .action(async (opts: { status?: string; provider?: string; limit: string; json?: boolean }) => {
      const a = await args();
      if (opts.status !== undefined && !(WEBHOOK_STATUSES as readonly string[]).includes(opts.status)) {
        throw new CliError(
          `--status must be one of ${WEBHOOK_STATUSES.join(', ')}, not "${opts.status}".`,
          EXIT.usage,
        );
      }
      const parsed = {
        status: opts.status,
        provider: a.parseProvider(opts.provider),
        limit: a.parseCount(opts.limit, '--limit', WEBHOOKS_LIMIT)!,
        json: opts.json,
      };
      return run(async (ctx) =>
        (await import('./commands/webhooks-list.ts')).webhooksListCommand(ctx, out, parsed),
      );
    });
  webhooks
    .command('replay')
    .description('Process a stored delivery again: reset it to received and queue its transcript fetch.')
    .argument('<deliveryId>', "Conduit's id of the delivery, or the sender's webhook-id")
    .action((ref: string) =>
      run(async (ctx) =>
        (await import('./commands/webhooks-replay.ts')).webhooksReplayCommand(ctx, out, ref),
      ),
    );

  const keys = program.command('keys').description('Token encryption keys.');
  keys
    .command('rotate')
    .description(
      'Re-encrypt every stored token not under the active key (the first of CONDUIT_ENCRYPTION_KEYS); resumable, run it until it reports none left.',
    )
    .option(
      '--batch <n>',
      `rows per statement (${ROTATE_BATCH.min}–${ROTATE_BATCH.max})`,
      String(ROTATE_BATCH.default),
    )
    .action(async (opts: { batch: string }) => {
      const batch = (await args()).parseCount(opts.batch, '--batch', ROTATE_BATCH)!;
      return run(async (ctx) =>
        (await import('./commands/keys-rotate.ts')).keysRotateCommand(ctx, out, { batch }),
      );
    });

  return program;
}

let describeDatabase: (message: string) => string | undefined = () => undefined;

async function reportError(err: unknown, out: Output): Promise<number> {
  if (!(err instanceof CommanderError) && !(err instanceof CliError)) {
    describeDatabase = (await import('./reachability.ts')).describeDatabaseError;
  }
  if (err instanceof CommanderError) {
    // Asked-for help exits 0; help shown because a group lacked its subcommand, or any parse
    // error, is a usage error (commander has already printed it).
    return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (err instanceof CliError) {
    out.error(err.message);
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  out.error(describeDatabase(message) ?? sentence(message));
  return EXIT.failure;
}

/** commander's "error: too many arguments for 'x'. Expected 1…" as one sentence of ours. */
function commanderSentence(text: string): string {
  const message = text
    .replace(/^error:\s*/i, '')
    .trim()
    .replace(/\.$/, '')
    .replace(/\.\s+(\S)/g, (_, next: string) => `; ${next.toLowerCase()}`);
  return `conduit: ${message.replace(/\s*\n\s*/g, ' ')} (see --help).\n`;
}

function sentence(text: string): string {
  const flat = text.replace(/\s*\n\s*/g, ' ').trim();
  return /[.!?)]$/.test(flat) ? flat : `${flat}.`;
}
