import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config.js';
import { CliError, ExitWith } from './client.js';
import { registerExportCommands } from './commands/export-commands.js';
import { registerFlagCommands } from './commands/flag-commands.js';
import { registerInspectCommands } from './commands/inspect-commands.js';
import { registerMetricsCommands } from './commands/metrics-commands.js';
import { registerMonitorCommands } from './commands/monitor-commands.js';
import { registerPlanCommands } from './commands/plan-commands.js';
import { registerScheduleCommands } from './commands/schedule-commands.js';
import { registerSnapshotCommands } from './commands/snapshot-commands.js';
import { registerServerCommands } from './commands/server-commands.js';
import { registerTokenCommands } from './commands/token-commands.js';
import type { Io } from './output.js';

export interface CliRun {
  /** Exit code once the command is done (serve: once the server has started). */
  readonly code: number;
  /** For `serve`: stops the server. */
  readonly stop?: () => Promise<void>;
}

/**
 * Runs `rampart ...` with the given arguments (without `node` and the script). Never calls
 * process.exit, so tests run it in-process; errors become one line on stderr and a code.
 */
export async function runCli(args: readonly string[], io: Io): Promise<CliRun> {
  let stop: (() => Promise<void>) | undefined;
  const program = new Command('rampart')
    .description('Rampart: guarded feature rollouts')
    .option('--url <url>', 'server URL (RAMPART_URL, default http://127.0.0.1:4000)')
    .option('--token <token>', 'API token (RAMPART_TOKEN)')
    .option('--json', 'machine-readable output')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .showHelpAfterError('(run with --help for usage)');

  registerServerCommands(program, io, (s) => (stop = s));
  registerTokenCommands(program, io);
  registerFlagCommands(program, io);
  registerInspectCommands(program, io);
  registerMetricsCommands(program, io);
  registerMonitorCommands(program, io);
  registerPlanCommands(program, io);
  registerSnapshotCommands(program, io);
  registerScheduleCommands(program, io);
  registerExportCommands(program, io);

  try {
    await program.parseAsync([...args], { from: 'user' });
    return { code: 0, stop };
  } catch (err) {
    if (err instanceof CommanderError) {
      return { code: err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2 };
    }
    if (err instanceof ExitWith) return { code: err.exitCode };
    if (err instanceof CliError) {
      io.err(`rampart: ${err.message}`);
      return { code: err.exitCode };
    }
    if (err instanceof ConfigError) {
      io.err(`rampart: invalid configuration: ${err.message}`);
      return { code: 2 };
    }
    io.err(`rampart: ${(err as Error).message ?? String(err)}`);
    return { code: 1 };
  }
}
