/**
 * The ports wirelab's roles use, and the firewall rules that let them in (pure: no IO). The ports come
 * from the same options the roles start with: a node's UDP port (the seeds' 12345), the master's
 * acknowledgements, the gossip seeds of a seeds config and the peers' ports, the chat server's port,
 * and the dashboard's only when it listens beyond loopback. Two renderings: UFW commands (the seed
 * project's `ufw allow 12345/udp`) and one nftables table owned by wirelab (`table inet wirelab`), which
 * can be added and deleted as a whole without touching any other rule of the host.
 */
import { WirelabError } from '../common/errors.js';

export type TransportProtocol = 'tcp' | 'udp';

/** The roles whose ports a firewall plan can open. */
export const ROLES = ['node', 'master', 'seed', 'peer', 'chat', 'dashboard'] as const;
export type Role = (typeof ROLES)[number];

/** A port or an inclusive range of ports. */
export interface PortRange {
  from: number;
  to: number;
}

/** One hole in the firewall: traffic of this protocol to (or, for replies, from) these ports. */
export interface PortRule {
  /** the role that needs it; 'allow' for a port the user asked for (--allow) */
  role: Role | 'allow';
  protocol: TransportProtocol;
  ports: PortRange;
  /** 'dport' (the usual: a listening port) or 'sport' (replies from that source port) */
  match: 'dport' | 'sport';
  /** why the hole is there; becomes the rule's comment, always starting with `wirelab` */
  comment: string;
}

/** What the roles listen on: the same values as their own options. */
export interface FirewallPlanOptions {
  /** roles to open ports for (default: every role) */
  roles?: readonly Role[];
  /** broadcast node's UDP port (`broadcast node --port`, default 12345) */
  broadcastPort?: number;
  /** gossip seeds (`gossip seeds --config`): host and TCP port of each; loopback ones need no rule */
  seeds?: readonly { host: string; port: number }[];
  /** gossip peers' TCP ports (`gossip peer --port`) */
  peerPorts?: readonly PortRange[];
  /** chat server's TCP port (`chat server --port`, default 10000) */
  chatPort?: number;
  /** dashboard's address (`dashboard --host --port`, default 127.0.0.1:8050): opened only off loopback */
  dashboard?: { host: string; port: number };
  /** more ports to let in, such as ssh's 22/tcp, so that a default-drop table does not lock anyone out */
  allow?: readonly { protocol: TransportProtocol; ports: PortRange }[];
}

export const DEFAULT_BROADCAST_PORT = 12345;
export const DEFAULT_CHAT_PORT = 10000;
export const DEFAULT_DASHBOARD = { host: '127.0.0.1', port: 8050 } as const;
/** The nftables family and name of wirelab's own table. */
export const NFT_FAMILY = 'inet';
export const NFT_TABLE = 'wirelab';
/** Every rule's comment starts with this: how `undo` tells wirelab's UFW rules from the user's. */
export const COMMENT_PREFIX = 'wirelab';
/** Most rules a plan may hold (a seeds config lists at most 256 seeds). */
export const MAX_RULES = 1024;

/** 127.0.0.0/8, ::1 and `localhost`: traffic there never crosses the firewall's input of other hosts. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** `12345`, `12345/udp`, `20000-20011`, `20000-20011/tcp`: a port range and its protocol, if given. */
export function parsePortSpec(text: string, what: string): { ports: PortRange; protocol?: TransportProtocol } {
  const match = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp))?$/.exec(text.trim());
  if (!match) throw new WirelabError('E_USAGE', `${what}: '${text}' is not a port, a range FROM-TO, or either with /tcp or /udp`);
  const from = Number(match[1]);
  const to = match[2] === undefined ? from : Number(match[2]);
  if (from < 1 || to > 65535 || from > to) throw new WirelabError('E_USAGE', `${what}: '${text}' must lie within 1-65535, low end first`);
  const protocol = match[3] as TransportProtocol | undefined;
  return protocol === undefined ? { ports: { from, to } } : { ports: { from, to }, protocol };
}

function single(port: number): PortRange {
  return { from: port, to: port };
}

/** The rules a set of roles needs, in a stable order, duplicates merged. */
export function planRules(options: FirewallPlanOptions = {}): PortRule[] {
  const roles = new Set(options.roles ?? ROLES);
  const rules: PortRule[] = [];
  for (const extra of options.allow ?? []) {
    rules.push({ role: 'allow', protocol: extra.protocol, ports: extra.ports, match: 'dport', comment: `${COMMENT_PREFIX} allow` });
  }
  const broadcastPort = options.broadcastPort ?? DEFAULT_BROADCAST_PORT;
  if (roles.has('node')) rules.push({ role: 'node', protocol: 'udp', ports: single(broadcastPort), match: 'dport', comment: `${COMMENT_PREFIX} broadcast node` });
  if (roles.has('master')) {
    // Acknowledgements come back from each node's unicast address to the master's free port; conntrack
    // cannot pair them with a datagram sent to a broadcast address, so they are let in by source port.
    rules.push({ role: 'master', protocol: 'udp', ports: single(broadcastPort), match: 'sport', comment: `${COMMENT_PREFIX} broadcast acks` });
  }
  if (roles.has('seed')) {
    for (const seed of options.seeds ?? []) {
      if (!isLoopbackHost(seed.host)) rules.push({ role: 'seed', protocol: 'tcp', ports: single(seed.port), match: 'dport', comment: `${COMMENT_PREFIX} gossip seed` });
    }
  }
  if (roles.has('peer')) {
    for (const ports of options.peerPorts ?? []) rules.push({ role: 'peer', protocol: 'tcp', ports, match: 'dport', comment: `${COMMENT_PREFIX} gossip peer` });
  }
  if (roles.has('chat')) rules.push({ role: 'chat', protocol: 'tcp', ports: single(options.chatPort ?? DEFAULT_CHAT_PORT), match: 'dport', comment: `${COMMENT_PREFIX} chat` });
  const dashboard = options.dashboard ?? DEFAULT_DASHBOARD;
  if (roles.has('dashboard') && !isLoopbackHost(dashboard.host)) {
    rules.push({ role: 'dashboard', protocol: 'tcp', ports: single(dashboard.port), match: 'dport', comment: `${COMMENT_PREFIX} dashboard` });
  }
  const merged = dedupe(rules);
  if (merged.length > MAX_RULES) throw new WirelabError('E_USAGE', `a plan of ${merged.length} rules is over the limit of ${MAX_RULES}`);
  return merged;
}

function dedupe(rules: PortRule[]): PortRule[] {
  const seen = new Set<string>();
  return rules.filter((rule) => {
    const key = `${rule.protocol} ${rule.match} ${rule.ports.from}-${rule.ports.to}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** `12345` or `20000-20011` (nftables) / `20000:20011` (UFW). */
function portText(ports: PortRange, separator: '-' | ':'): string {
  return ports.from === ports.to ? String(ports.from) : `${ports.from}${separator}${ports.to}`;
}

/**
 * wirelab's nftables table: everything to this host is dropped except replies to its own traffic,
 * loopback, ICMP (IPv6 needs it for neighbour discovery), and the holes of the plan. A drop verdict in
 * any base chain is final in nftables, so this table closes the host as UFW's default policy does.
 */
export function nftablesTable(rules: readonly PortRule[]): string {
  const lines = [
    `table ${NFT_FAMILY} ${NFT_TABLE} {`,
    '\tchain input {',
    '\t\ttype filter hook input priority filter; policy drop;',
    '\t\tct state established,related accept',
    '\t\tct state invalid drop',
    '\t\tiif "lo" accept',
    '\t\tmeta l4proto { icmp, ipv6-icmp } accept',
  ];
  for (const rule of rules) {
    lines.push(`\t\t${rule.protocol} ${rule.match} ${portText(rule.ports, '-')} accept comment "${rule.comment}"`);
  }
  lines.push('\t}', '}');
  return lines.join('\n') + '\n';
}

/**
 * The script `apply` feeds to `nft -f -`: create the table if missing, delete it, define it anew, all in
 * one transaction. Applying it twice leaves the same ruleset as applying it once.
 */
export function nftablesApplyScript(rules: readonly PortRule[]): string {
  return `table ${NFT_FAMILY} ${NFT_TABLE}\ndelete table ${NFT_FAMILY} ${NFT_TABLE}\n${nftablesTable(rules)}`;
}

/** The arguments after `ufw` that add one rule (`allow 12345/udp comment 'wirelab broadcast node'`). */
export function ufwRuleArgs(rule: PortRule): string[] {
  const ports = portText(rule.ports, ':');
  const ruleArgs =
    rule.match === 'sport'
      ? ['allow', 'proto', rule.protocol, 'from', 'any', 'port', ports]
      : rule.ports.from === rule.ports.to
        ? ['allow', `${ports}/${rule.protocol}`]
        : ['allow', 'proto', rule.protocol, 'to', 'any', 'port', ports];
  return [...ruleArgs, 'comment', rule.comment];
}

/** Quote one shell word for display (only when it needs it). */
function shellWord(word: string): string {
  return /^[\w./:=@%+-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/** The UFW commands of a plan, as a user would type them. */
export function ufwCommands(rules: readonly PortRule[]): string[] {
  return rules.map((rule) => ['ufw', ...ufwRuleArgs(rule)].map(shellWord).join(' '));
}

/**
 * From `ufw show added`, the rules wirelab added (their comment starts with `wirelab`), each as the
 * arguments after `ufw delete`. Lines look like `ufw allow 12345/udp comment 'wirelab broadcast node'`.
 */
export function wirelabUfwRules(showAdded: string): string[][] {
  const rules: string[][] = [];
  for (const line of showAdded.split('\n')) {
    const match = /^ufw (.+) comment '([^']*)'$/.exec(line.trim());
    if (!match || !match[2]!.startsWith(COMMENT_PREFIX)) continue;
    const words = match[1]!.split(/\s+/);
    // `ufw route ...` and IPv6-only forms are never written by wirelab; keep to plain allow rules
    if (words[0] !== 'allow') continue;
    rules.push([...words, 'comment', match[2]!]);
  }
  return rules;
}

/** One line per rule, for people: `12345/udp  in   broadcast node`. */
export function describeRule(rule: PortRule): string {
  const ports = `${portText(rule.ports, '-')}/${rule.protocol}`;
  const direction = rule.match === 'dport' ? 'to' : 'from';
  return `${direction} ${ports} (${rule.comment.slice(COMMENT_PREFIX.length).trim()})`;
}
