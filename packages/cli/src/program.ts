// The `conduit` command line: commander wiring only. Each command is a function of an
// AppContext and an Output (commands/*), so tests call them without spawning a process.
import { Command, CommanderError } from 'commander';
import type { AppContext } from '@conduit/runtime';
import { parseConnectionId, parseCount, parseProvider, parseStatus } from './args.ts';
import { LIST_LIMIT, connectionsListCommand } from './commands/connections-list.ts';
import { deactivateExpiredCommand } from './commands/deactivate-expired.ts';
import { keysRotateCommand, ROTATE_BATCH } from './commands/keys-rotate.ts';
import { notifyReauthCommand } from './commands/notify-reauth.ts';
import { refreshCommand } from './commands/refresh.ts';
import { statusCommand } from './commands/status.ts';
import { SYNC_LIMIT, syncCommand } from './commands/sync.ts';
import { webhooksReplayCommand } from './commands/webhooks-replay.ts';
import { CliError, EXIT } from './errors.ts';
import { describeDatabaseError } from './reachability.ts';
import type { Output } from './output.ts';

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
    return reportError(err, output);
  } finally {
    await ctx?.close().catch(() => undefined);
  }
}

type Run = (command: (ctx: AppContext) => Promise<number>) => Promise<void>;

function buildProgram(out: Output, run: Run): Command {
  const program = new Command('conduit')
    .description('Operate Conduit: connection health, refreshes, syncs, notifications and key rotation.')
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
    .action((opts: { json?: boolean }) => run((ctx) => statusCommand(ctx, out, opts)));

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
    .action((opts: { status?: string; provider?: string; limit: string; json?: boolean }) => {
      const parsed = {
        status: parseStatus(opts.status),
        provider: parseProvider(opts.provider),
        limit: parseCount(opts.limit, '--limit', LIST_LIMIT)!,
        json: opts.json,
      };
      return run((ctx) => connectionsListCommand(ctx, out, parsed));
    });

  program
    .command('refresh')
    .description(
      'Refresh one connection now, under the same lock and rules as the workers, and print the outcome.',
    )
    .argument('<connectionId>', 'the connection (UUID)')
    .action((id: string) => {
      const connectionId = parseConnectionId(id);
      return run((ctx) => refreshCommand(ctx, out, connectionId));
    });

  program
    .command('sync')
    .description('Queue a Fathom sync of one connection now and print the job id.')
    .argument('<connectionId>', 'the connection (UUID)')
    .option('--full', 'sync everything, not only what is new since the last sync')
    .option('--limit <n>', 'stop after this many meetings')
    .action((id: string, opts: { full?: boolean; limit?: string }) => {
      const connectionId = parseConnectionId(id);
      const parsed = { full: opts.full, limit: parseCount(opts.limit, '--limit', SYNC_LIMIT) };
      return run((ctx) => syncCommand(ctx, out, connectionId, parsed));
    });

  program
    .command('deactivate-expired')
    .description(
      'Move connections that can no longer refresh to needs_reauth (with event and notification) and list the owners who must reconnect.',
    )
    .option('--dry-run', 'list them, change nothing')
    .action((opts: { dryRun?: boolean }) => run((ctx) => deactivateExpiredCommand(ctx, out, opts)));

  program
    .command('notify-reauth')
    .description(
      'Queue a connection.needs_reauth notification for every needs_reauth connection that has none pending or delivered (safe to repeat).',
    )
    .action(() => run((ctx) => notifyReauthCommand(ctx, out)));

  const webhooks = program.command('webhooks').description('Stored webhook deliveries.');
  webhooks
    .command('replay')
    .description('Process a stored delivery again: reset it to received and queue its transcript fetch.')
    .argument('<deliveryId>', "Conduit's id of the delivery, or the sender's webhook-id")
    .action((ref: string) => run((ctx) => webhooksReplayCommand(ctx, out, ref)));

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
    .action((opts: { batch: string }) => {
      const batch = parseCount(opts.batch, '--batch', ROTATE_BATCH)!;
      return run((ctx) => keysRotateCommand(ctx, out, { batch }));
    });

  return program;
}

function reportError(err: unknown, out: Output): number {
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
  out.error(describeDatabaseError(message) ?? sentence(message));
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
