/**
 * The `wirelab` command: one subcommand group per system. Each group lives in its own file and only
 * parses flags, builds components from the systems' public `index.ts`, and prints.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { reportError } from './shared.js';
import { register as registerBroadcast } from './broadcast.js';
import { register as registerAnalyze } from './analyze.js';
import { register as registerGossip } from './gossip.js';
import { register as registerChat } from './chat.js';
import { register as registerDashboard } from './dashboard.js';
import { register as registerFirewall } from './firewall.js';
import { register as registerDemo } from './demo.js';

/** One register function per command group, in the order `--help` lists them. */
const groups = [
  registerBroadcast,
  registerAnalyze,
  registerGossip,
  registerChat,
  registerDashboard,
  registerFirewall,
  registerDemo,
];

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
  description: string;
};

export function buildProgram(): Command {
  const program = new Command('wirelab')
    .description(pkg.description)
    .version(pkg.version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of groups) register(program);
  return program;
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
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
