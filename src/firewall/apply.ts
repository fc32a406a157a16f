/**
 * Apply a firewall plan with `nft` or `ufw`, and undo it. nftables: wirelab's rules live in one table of
 * their own (`table inet wirelab`), replaced in one transaction by `apply` and deleted by `undo`, so
 * that nothing else in the ruleset is touched. UFW: each rule carries a `wirelab ...` comment, and
 * `undo` deletes exactly the rules `ufw show added` lists with such a comment. Commands run through an
 * injected runner, so that tests run them inside a network namespace (`ip netns exec NS ...`).
 */
import { spawn } from 'node:child_process';
import { WirelabError } from '../common/errors.js';
import {
  NFT_FAMILY,
  NFT_TABLE,
  nftablesApplyScript,
  ufwCommands,
  ufwRuleArgs,
  wirelabUfwRules,
  type PortRule,
} from './rules.js';

export type Backend = 'nft' | 'ufw';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one command (argv[0] is the program), with optional stdin; never throws for a non-zero exit. */
export type CommandRunner = (argv: readonly string[], input?: string) => Promise<CommandResult>;

/** Largest output kept from one firewall command, characters. */
const MAX_OUTPUT_CHARS = 4 * 1024 * 1024;
/** ms a firewall command may take before it is killed. */
const COMMAND_TIMEOUT_MS = 30_000;

/** A runner that spawns the commands, each prefixed by `prefix` (e.g. `['ip', 'netns', 'exec', NS]`). */
export function commandRunner(prefix: readonly string[] = []): CommandRunner {
  return (argv, input) =>
    new Promise((resolve, reject) => {
      const [program, ...args] = [...prefix, ...argv];
      const child = spawn(program!, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: COMMAND_TIMEOUT_MS });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        if (stdout.length < MAX_OUTPUT_CHARS) stdout += chunk;
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        if (stderr.length < MAX_OUTPUT_CHARS) stderr += chunk;
      });
      child.stdin.on('error', () => undefined); // a command that exits without reading its input
      child.stdin.end(input ?? '');
      child.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') reject(new WirelabError('E_MISSING_TOOL', `'${program}' not found (${missingToolHint(argv[0]!)})`, { cause: err }));
        else reject(new WirelabError('E_NETWORK', `${program} failed: ${err.message}`, { cause: err }));
      });
      child.once('close', (code, signal) => resolve({ code: code ?? 128, stdout, stderr: signal ? `${stderr}killed by ${signal}` : stderr }));
    });
}

function missingToolHint(program: string): string {
  return program === 'ufw' ? "install Debian's ufw" : program === 'nft' ? "install Debian's nftables" : 'is it installed?';
}

/** What apply or undo did (or, with dryRun, would do). */
export interface FirewallChange {
  backend: Backend;
  /** false when the firewall already was as asked (apply twice, undo with nothing to undo) */
  changed: boolean;
  /** the commands run (or to run), as text */
  commands: string[];
}

async function run(runner: CommandRunner, argv: readonly string[], input?: string): Promise<CommandResult> {
  const result = await runner(argv, input);
  if (result.code !== 0) {
    const detail = (result.stderr || result.stdout).trim().split('\n').slice(0, 3).join('; ');
    const code = /not permitted|permission denied|must be root|need to be root/i.test(detail) ? 'E_PERMISSION' : 'E_NETWORK';
    throw new WirelabError(code, `${argv.join(' ')} failed (exit ${result.code}): ${detail}`);
  }
  return result;
}

/** wirelab's nftables table as `nft list` prints it, or undefined when there is none. */
export async function currentNftTable(runner: CommandRunner): Promise<string | undefined> {
  const result = await runner(['nft', 'list', 'table', NFT_FAMILY, NFT_TABLE]);
  if (result.code === 0) return result.stdout;
  if (/No such file or directory|does not exist/i.test(result.stderr)) return undefined;
  return (await run(runner, ['nft', 'list', 'table', NFT_FAMILY, NFT_TABLE])).stdout;
}

async function applyNft(rules: readonly PortRule[], runner: CommandRunner, dryRun: boolean): Promise<FirewallChange> {
  const script = nftablesApplyScript(rules);
  const commands = [`nft -f - <<'EOF'\n${script}EOF`];
  const before = await currentNftTable(runner);
  if (dryRun) return { backend: 'nft', changed: true, commands };
  await run(runner, ['nft', '-f', '-'], script);
  const after = await currentNftTable(runner);
  return { backend: 'nft', changed: before !== after, commands };
}

async function undoNft(runner: CommandRunner, dryRun: boolean): Promise<FirewallChange> {
  if ((await currentNftTable(runner)) === undefined) return { backend: 'nft', changed: false, commands: [] };
  const argv = ['nft', 'delete', 'table', NFT_FAMILY, NFT_TABLE];
  if (!dryRun) await run(runner, argv);
  return { backend: 'nft', changed: true, commands: [argv.join(' ')] };
}

async function applyUfw(rules: readonly PortRule[], runner: CommandRunner, dryRun: boolean): Promise<FirewallChange> {
  const commands = ufwCommands(rules);
  if (dryRun) return { backend: 'ufw', changed: true, commands };
  let changed = false;
  for (const rule of rules) {
    const { stdout } = await run(runner, ['ufw', ...ufwRuleArgs(rule)]);
    // "Rule added", "Rules updated"; an existing rule: "Skipping adding existing rule"
    if (/added|updated/i.test(stdout) && !/skipping/i.test(stdout)) changed = true;
  }
  return { backend: 'ufw', changed, commands };
}

async function undoUfw(runner: CommandRunner, dryRun: boolean): Promise<FirewallChange> {
  const { stdout } = await run(runner, ['ufw', 'show', 'added']);
  const ours = wirelabUfwRules(stdout);
  const commands = ours.map((args) => ['ufw', 'delete', ...args].map((w) => (/^[\w./:=-]+$/.test(w) ? w : `'${w}'`)).join(' '));
  if (!dryRun) {
    for (const args of ours) await run(runner, ['ufw', '--force', 'delete', ...args]);
  }
  return { backend: 'ufw', changed: ours.length > 0, commands };
}

/** Open the plan's ports (idempotent). */
export function applyFirewall(backend: Backend, rules: readonly PortRule[], runner: CommandRunner = commandRunner(), dryRun = false): Promise<FirewallChange> {
  return backend === 'nft' ? applyNft(rules, runner, dryRun) : applyUfw(rules, runner, dryRun);
}

/** Remove exactly what apply added (idempotent). */
export function undoFirewall(backend: Backend, runner: CommandRunner = commandRunner(), dryRun = false): Promise<FirewallChange> {
  return backend === 'nft' ? undoNft(runner, dryRun) : undoUfw(runner, dryRun);
}
