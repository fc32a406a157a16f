/**
 * The `wirelab` command: one subcommand group per system. Each group lives in its own file and only
 * parses flags, builds components from the systems' public `index.ts`, and prints.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { reportError } from './shared.js';
type Register = (program: Command) => void;

/**
 * The command groups, in the order `--help` lists them, each loaded only when needed: a command
 * loads its own group (and so its own system's code) and nothing else, which keeps start-up quick;
 * the top-level help and an unknown command load them all.
 */
const groups: Record<string, () => Promise<Register>> = {
  broadcast: async () => (await import('./broadcast.js')).register,
  analyze: async () => (await import('./analyze.js')).register,
  gossip: async () => (await import('./gossip.js')).register,
  chat: async () => (await import('./chat.js')).register,
  dashboard: async () => (await import('./dashboard.js')).register,
  firewall: async () => (await import('./firewall.js')).register,
  demo: async () => (await import('./demo.js')).register,
};

/** The groups a command line needs: the one it names, or all of them. */
function groupsFor(argv: string[]): string[] {
  const first = argv.slice(2).find((arg) => !arg.startsWith('-'));
  return first !== undefined && first in groups ? [first] : Object.keys(groups);
}

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
  description: string;
};

export async function buildProgram(argv: string[] = process.argv): Promise<Command> {
  const program = new Command('wirelab')
    .description(pkg.description)
    .version(pkg.version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const registers = await Promise.all(groupsFor(argv).map((name) => groups[name]!()));
  for (const register of registers) register(program);
  return program;
}

async function main(argv: string[]): Promise<number> {
  const program = await buildProgram(argv);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed help, the version or its own one-line message
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : err.exitCode || 2;
    }
    return reportError(err);
  }
}

process.exitCode = await main(process.argv);
