/** `wirelab firewall plan|apply|undo`: the ports of wirelab's roles as UFW commands or an nftables table. */
import { access, constants } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { WirelabError } from '../common/errors.js';
import { plural } from '../common/format.js';
import { readSeedConfig } from '../gossip/index.js';
import {
  ROLES,
  DEFAULT_BROADCAST_PORT,
  DEFAULT_CHAT_PORT,
  DEFAULT_DASHBOARD,
  NFT_FAMILY,
  NFT_TABLE,
  applyFirewall,
  describeRule,
  nftablesTable,
  parsePortSpec,
  planRules,
  ufwCommands,
  undoFirewall,
  type Backend,
  type PortRange,
  type PortRule,
  type Role,
  type TransportProtocol,
} from '../firewall/index.js';
import { Output, addExamples, addOutputOptions, portOption, type OutputOptions } from './shared.js';

interface PlanFlags extends OutputOptions {
  backend: Backend;
  roles: Role[];
  broadcastPort: number;
  config?: string;
  peerPorts?: PortRange[];
  chatPort: number;
  dashboardHost: string;
  dashboardPort: number;
  allow: { protocol: TransportProtocol; ports: PortRange }[];
  dryRun?: boolean;
}

const DEFAULT_ALLOW = [{ protocol: 'tcp' as const, ports: { from: 22, to: 22 } }];

function parseRoles(value: string): Role[] {
  const roles = value.split(',').map((r) => r.trim());
  for (const role of roles) {
    if (!(ROLES as readonly string[]).includes(role)) throw new WirelabError('E_USAGE', `--roles: unknown role '${role}' (roles: ${ROLES.join(', ')})`);
  }
  return roles as Role[];
}

function parsePeerPorts(value: string, previous: PortRange[] | undefined): PortRange[] {
  const spec = parsePortSpec(value, '--peer-ports');
  if (spec.protocol === 'udp') throw new WirelabError('E_USAGE', '--peer-ports: gossip peers listen on TCP');
  return [...(previous ?? []), spec.ports];
}

function parseAllow(value: string, previous: PlanFlags['allow']): PlanFlags['allow'] {
  if (value === 'none') return [];
  const spec = parsePortSpec(value, '--allow');
  if (spec.protocol === undefined) throw new WirelabError('E_USAGE', `--allow: say which protocol: ${value}/tcp or ${value}/udp`);
  // the first --allow replaces the default (ssh) instead of adding to it
  return [...(previous === DEFAULT_ALLOW ? [] : previous), { protocol: spec.protocol, ports: spec.ports }];
}

function addPlanFlags(command: Command): Command {
  command
    .addOption(new Option('--backend <backend>', 'nft (a table of its own) or ufw (commands)').choices(['nft', 'ufw']).default('nft'))
    .addOption(new Option('--roles <list>', `comma-separated roles to open ports for (${ROLES.join(', ')})`).argParser(parseRoles).default([...ROLES], 'all'))
    .addOption(portOption('--broadcast-port <port>', "broadcast nodes' UDP port", DEFAULT_BROADCAST_PORT))
    .option('--config <file>', 'gossip seed list (one IP:PORT per line): each seed off loopback gets its TCP port')
    .option('--peer-ports <range>', 'TCP port or range FROM-TO of gossip peers (repeatable)', parsePeerPorts)
    .addOption(portOption('--chat-port <port>', "chat server's TCP port", DEFAULT_CHAT_PORT))
    .option('--dashboard-host <ip>', "dashboard's address: opened only when not loopback", DEFAULT_DASHBOARD.host)
    .addOption(portOption('--dashboard-port <port>', "dashboard's TCP port", DEFAULT_DASHBOARD.port))
    .addOption(new Option('--allow <port/proto>', "another port to let in (repeatable; 'none' for none)").argParser(parseAllow).default(DEFAULT_ALLOW, '22/tcp'));
  return addOutputOptions(command);
}

/** The seeds of --config; a path that cannot be read is a usage error (docs/cli.md: paths checked at once). */
async function seedsOf(path: string | undefined): Promise<{ host: string; port: number }[]> {
  if (path === undefined) return [];
  try {
    await access(path, constants.R_OK);
  } catch {
    throw new WirelabError('E_USAGE', `--config: cannot read ${path}`);
  }
  return readSeedConfig(path);
}

async function rulesFor(flags: PlanFlags): Promise<PortRule[]> {
  const seeds = await seedsOf(flags.config);
  return planRules({
    roles: flags.roles,
    broadcastPort: flags.broadcastPort,
    seeds,
    peerPorts: flags.peerPorts ?? [],
    chatPort: flags.chatPort,
    dashboard: { host: flags.dashboardHost, port: flags.dashboardPort },
    allow: flags.allow,
  });
}

async function runPlan(flags: PlanFlags): Promise<void> {
  const out = new Output(flags);
  const rules = await rulesFor(flags);
  const text = flags.backend === 'nft' ? nftablesTable(rules).trimEnd().split('\n') : ufwCommands(rules);
  for (const [index, rule] of rules.entries()) {
    out.event('rule', { backend: flags.backend, role: rule.role, protocol: rule.protocol, from: rule.ports.from, to: rule.ports.to, match: rule.match, comment: rule.comment, ...(flags.backend === 'ufw' ? { command: text[index] } : {}) });
  }
  if (flags.backend === 'nft') out.event('table', { backend: 'nft', family: NFT_FAMILY, name: NFT_TABLE, text: text.join('\n') + '\n' });
  for (const line of text) out.line(line);
}

async function runApply(flags: PlanFlags): Promise<void> {
  const out = new Output(flags);
  const rules = await rulesFor(flags);
  const change = await applyFirewall(flags.backend, rules, undefined, flags.dryRun === true);
  if (flags.dryRun) {
    out.event('dry-run', { backend: flags.backend, action: 'apply', commands: change.commands }, `would run (${plural(rules.length, 'rule')}):`);
    for (const command of change.commands) out.line(command);
    return;
  }
  const where = flags.backend === 'nft' ? `table ${NFT_FAMILY} ${NFT_TABLE}` : 'ufw';
  const what = change.changed ? `applied ${plural(rules.length, 'rule')} (${where})` : `already applied: ${plural(rules.length, 'rule')} (${where}), nothing changed`;
  out.event('applied', { backend: flags.backend, changed: change.changed, rules: rules.length }, what);
  for (const rule of rules) out.line(`  ${describeRule(rule)}`);
  if (flags.backend === 'ufw') out.line("  (UFW applies them once enabled: 'ufw enable'; its default policy drops other incoming traffic)");
}

async function runUndo(flags: OutputOptions & { backend: Backend; dryRun?: boolean }): Promise<void> {
  const out = new Output(flags);
  const change = await undoFirewall(flags.backend, undefined, flags.dryRun === true);
  if (flags.dryRun) {
    out.event('dry-run', { backend: flags.backend, action: 'undo', commands: change.commands }, change.commands.length > 0 ? 'would run:' : 'nothing to undo');
    for (const command of change.commands) out.line(command);
    return;
  }
  const what = change.changed ? `removed what wirelab added (${flags.backend})` : `nothing to undo (${flags.backend}): wirelab has added nothing`;
  out.event('undone', { backend: flags.backend, changed: change.changed, commands: change.commands }, what);
}

export function register(program: Command): void {
  const group = program.command('firewall').description('UFW and nftables rules for the ports wirelab uses');
  addExamples(group, [
    ['firewall plan', 'the nftables table that lets wirelab in (printed, not applied)'],
    ['firewall apply --backend ufw', "the seed's way: ufw allow 12345/udp and friends"],
    ['firewall undo', "remove wirelab's table; nothing else is touched"],
  ]);

  const plan = addPlanFlags(group.command('plan').description('print the rules for the ports of the roles, without applying them'));
  plan.action((flags: PlanFlags) => runPlan(flags));
  addExamples(plan, [
    ['firewall plan', "an nftables table: broadcast 12345/udp, the master's acks, chat 10000/tcp, ssh"],
    ['firewall plan --backend ufw --config seeds.txt --peer-ports 7100-7111', 'UFW commands, gossip seeds and peers included'],
    ['firewall plan --roles node --allow none', "only a broadcast node's port"],
  ]);

  const apply = addPlanFlags(group.command('apply').description('apply the rules (idempotent; needs root)')).option('--dry-run', 'print the commands instead of running them');
  apply.action((flags: PlanFlags) => runApply(flags));
  addExamples(apply, [
    ['firewall apply', "replace wirelab's table (table inet wirelab) in one transaction"],
    ['firewall apply --backend ufw --dashboard-host 0.0.0.0', 'UFW rules, the dashboard reachable from other hosts'],
    ['firewall apply --dry-run', 'what would be run'],
  ]);

  const undo = addOutputOptions(
    group
      .command('undo')
      .description('remove exactly what wirelab added (idempotent; needs root)')
      .addOption(new Option('--backend <backend>', 'nft or ufw').choices(['nft', 'ufw']).default('nft'))
      .option('--dry-run', 'print the commands instead of running them'),
  );
  undo.action((flags: OutputOptions & { backend: Backend; dryRun?: boolean }) => runUndo(flags));
  addExamples(undo, [
    ['firewall undo', "delete table inet wirelab, if there is one"],
    ['firewall undo --backend ufw', "delete the UFW rules whose comment starts with 'wirelab'"],
  ]);
}
