/**
 * The `wirelab` command tree: one subcommand group per system. Each group lives in its own file and
 * only parses flags, builds components from the systems' public `index.ts`, and prints. Split from
 * main.ts so that tests can build and walk the tree without running it.
 */
import { readFileSync } from 'node:fs';
import { Command, Help, type Option } from 'commander';
import { addExamples } from './shared.js';

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

/** Option help that also marks required options `(required)` (docs/cli.md). */
function optionDescription(this: Help, option: Option): string {
  const text = Help.prototype.optionDescription.call(this, option);
  return option.mandatory ? `${text} (required)` : text;
}

/** The whole tree (or only the group `argv` names), ready to parse. */
export async function buildProgram(argv: string[] = process.argv): Promise<Command> {
  const program = new Command('wirelab')
    .description(pkg.description)
    .version(pkg.version, '-V, --version')
    .configureHelp({ optionDescription, showGlobalOptions: false })
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  addExamples(program, [
    ['demo --duration 10s', 'a master and four nodes on this machine, for ten seconds'],
    ['broadcast node --name n1', 'listen for broadcasts on UDP 12345'],
    ['analyze --read capture.pcap --stats', 'statistics of a capture file'],
    ['gossip --help', 'the gossip network: seeds, peers, swarm, degree plot'],
  ]);
  const registers = await Promise.all(groupsFor(argv).map((name) => groups[name]!()));
  for (const register of registers) register(program);
  return program;
}
