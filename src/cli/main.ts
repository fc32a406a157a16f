/**
 * The `wirelab` command: one subcommand group per system. Each group lives in its own file and only
 * parses flags, builds components from the systems' public `index.ts`, and prints.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { WirelabError } from '../common/errors.js';
import { reportError } from './shared.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
  description: string;
};

/** Groups whose system is not built yet: they say so in one line and exit non-zero. */
const notBuilt: Record<string, string> = {
  broadcast: 'a UDP broadcast master and its nodes',
  analyze: 'capture, decode and analyse packets',
  gossip: 'a peer-to-peer gossip network: seeds, peers, swarm, degrees',
  chat: 'a TCP chat server and client with file transfer and quizzes',
  dashboard: 'a live web dashboard of the traffic',
  firewall: 'UFW and nftables rules for the ports wirelab uses',
  demo: 'a whole small network on this machine, shown live',
};

export function buildProgram(): Command {
  const program = new Command('wirelab')
    .description(pkg.description)
    .version(pkg.version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const [name, summary] of Object.entries(notBuilt)) {
    program
      .command(name)
      .description(`${summary} (not built yet)`)
      .allowUnknownOption()
      .allowExcessArguments()
      .action(() => {
        throw new WirelabError('E_NOT_IMPLEMENTED', `'wirelab ${name}' is not built yet`);
      });
  }
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
