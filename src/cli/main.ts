/**
 * The `wirelab` entry point: parse, run, and turn the outcome into an exit code (docs/cli.md):
 * 0 ok, 1 runtime failure, 2 usage error, 70 internal error, 128+N after a clean stop by signal N.
 */
import { CommanderError } from 'commander';
import { exitIfStderrStuck } from '../common/log.js';
import { buildProgram } from './program.js';
import { reportError, signalExitCode, stoppedBySignal } from './shared.js';

/** The exit code of a commander error: 0 for --help and --version, 2 for every usage mistake. */
function commanderExitCode(err: CommanderError): number {
  return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2;
}

async function main(argv: string[]): Promise<number> {
  try {
    const program = await buildProgram(argv);
    await program.parseAsync(argv);
  } catch (err) {
    // commander already printed help, the version or its own one-line message
    if (err instanceof CommanderError) return commanderExitCode(err);
    return reportError(err);
  }
  const signal = stoppedBySignal();
  if (signal !== undefined) return signalExitCode(signal);
  return Number(process.exitCode ?? 0);
}

process.exitCode = await main(process.argv);
exitIfStderrStuck();
