/**
 * deploy/Dockerfile and deploy/compose.yaml, for real: a base image built here (debootstrap bookworm
 * plus the host's Node 20; cached under .cache/docker), the image built from it offline, the compose
 * file brought up on an engine of the test's own (test/integration/deploy/private-dockerd.ts), and
 * the containers' own output checked: broadcasts reached all four nodes, the analyzer saw them, gossip
 * reached every peer, two chat clients (containers of their own, typed into) log in and talk, the
 * dashboard (test/integration/deploy/compose-clients.ts) counts the lab's traffic with each wirelab
 * protocol named and serves its built page, every container turned healthy, a stop takes under a
 * second or two. Then it all comes down and the machine is as it was: ip_forward, firewall rules,
 * interfaces, mounts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../../helpers/process.js';
import { PrivateDockerd, mountsUnder } from './private-dockerd.js';
import { ChatSession, dashboardGet, dashboardStats, type ProtocolCount } from './compose-clients.js';

const execFileAsync = promisify(execFile);

const NODES = ['node1', 'node2', 'node3', 'node4'];
const PEERS = Array.from({ length: 12 }, (_, i) => `peer${i + 1}`);
const SERVICES = ['master', ...NODES, 'analyzer', 'seed1', 'seed2', 'seed3', ...PEERS, 'chat', 'dashboard'];
/** what the dashboard must name among the lab's traffic */
const PROTOCOLS = ['wirelab-broadcast', 'wirelab-gossip', 'wirelab-chat'];
/** ms the lab may take to show every expected event once it is up */
const LAB_DEADLINE_MS = 150_000;
/** ms a chat client may take to show a prompt or a message (a container starts in about a second) */
const CHAT_DEADLINE_MS = 30_000;

/** Why this test cannot run here, or undefined. Installs the Debian packages it needs when it can. */
function unavailableReason(): string | undefined {
  if (process.platform !== 'linux') return 'Docker needs Linux';
  if (process.getuid?.() !== 0) return 'starting dockerd needs root';
  if (!process.version.startsWith('v20.')) return `the base image takes the host's Node 20; this is ${process.version}`;
  try {
    execFileSync('bash', [join(repoRoot, 'scripts/docker/ensure-tools.sh')], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 600_000 });
  } catch (err) {
    return `Docker tools unavailable: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`;
  }
  return undefined;
}

function read(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

function output(program: string, args: string[]): string {
  try {
    return execFileSync(program, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return `(${program} unavailable)`;
  }
}

/**
 * What dockerd could change on the machine, read only: forwarding, interfaces, and the firewall
 * (nft list ruleset, iptables-save), packet counters and save dates left out.
 */
function machineState(): Record<string, string> {
  const uncount = (text: string): string =>
    text
      .split('\n')
      .filter((line) => !line.startsWith('#'))
      .join('\n')
      .replace(/\[\d+:\d+\]/g, '')
      .replace(/counter packets \d+ bytes \d+/g, 'counter');
  return {
    ipForward: read('/proc/sys/net/ipv4/ip_forward'),
    ip6Forward: read('/proc/sys/net/ipv6/conf/all/forwarding'),
    links: output('ip', ['-o', 'link', 'show'])
      .split('\n')
      .map((line) => line.split(':')[1]?.trim().split('@')[0] ?? '')
      .sort()
      .join(','),
    nft: uncount(output('nft', ['list', 'ruleset'])),
    iptables: uncount(output('iptables-save', [])),
    ip6tables: uncount(output('ip6tables-save', [])),
  };
}

/** Lines of a long-running client command, parsed as they come; waits with deadlines. */
class Stream {
  readonly lines: string[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      for (const waiter of this.waiters) waiter();
    });
    child.stderr!.resume();
  }

  until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate()) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`${what}: not within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }
}

/** `node1_1 | {...}` (docker-compose 1.29) or `node1-1 | {...}` (docker compose): service and event. */
function parseLogLine(line: string): { service: string; event: Record<string, unknown> } | undefined {
  const match = /^(\S+?)[-_]\d+\s+\| (\{.*\})\s*$/.exec(line);
  if (!match) return undefined;
  try {
    return { service: match[1]!, event: JSON.parse(match[2]!) as Record<string, unknown> };
  } catch {
    return undefined;
  }
}

/**
 * A build context with node_modules in it (hard links), so that the image builds offline: the
 * checkout's files as `docker build .` would see them (tracked and not ignored; whatever `npm run
 * build` uses is among them), plus node_modules.
 */
function buildContext(scratch: string): string {
  const context = join(scratch, 'context');
  const files = execFileSync('git', ['-C', repoRoot, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  for (const file of files.split('\0').filter((f) => f !== '' && existsSync(join(repoRoot, f)))) {
    cpSync(join(repoRoot, file), join(context, file), { recursive: true });
  }
  execFileSync('cp', ['-al', join(repoRoot, 'node_modules'), join(context, 'node_modules')]);
  writeFileSync(join(context, '.dockerignore'), '.git\n');
  return context;
}

test('compose.yaml on a private engine: broadcasts reach four nodes, gossip reaches every peer, chat clients talk, the dashboard sees it all, nothing left behind', { timeout: 1_200_000 }, async (t) => {
  const why = unavailableReason();
  if (why) return t.skip(why);
  const before = machineState();
  const cache = process.env.WIRELAB_DOCKER_CACHE ?? join(repoRoot, '.cache/docker');
  let tarball: string;
  try {
    ({ stdout: tarball } = await execFileAsync('bash', [join(repoRoot, 'scripts/docker/base-image.sh'), cache], { timeout: 900_000, maxBuffer: 16 * 1024 * 1024 }));
  } catch (err) {
    // no mirror, no debootstrap: the machine cannot build a base image, which is not wirelab's fault
    const tail = String((err as { stderr?: string }).stderr ?? err).trim().split('\n').slice(-3).join('; ');
    return t.skip(`cannot build the base image (scripts/docker/base-image.sh): ${tail}`);
  }

  // teardown in reverse order of set-up (node:test runs t.after hooks first-registered first)
  const teardown: (() => unknown)[] = [];
  t.after(async () => {
    for (const step of teardown.reverse()) await Promise.resolve().then(step).catch((err: unknown) => t.diagnostic(`teardown: ${String(err)}`));
  });
  const scratch = mkdtempSync('/var/tmp/wirelab-docker-');
  teardown.push(() => {
    // never remove a tree with something still mounted in it
    if (mountsUnder([scratch]).length === 0) rmSync(scratch, { recursive: true, force: true });
  });
  const engine = new PrivateDockerd(scratch);
  teardown.push(() => engine.stop());
  await engine.start();

  const base = `wirelab-test-base:${engine.id}`;
  const image = `wirelab-test:${engine.id}`;
  await engine.docker(['import', tarball.trim(), base]);
  const context = buildContext(scratch);
  await engine.docker(['build', '--network', 'none', '-q', '-f', 'deploy/Dockerfile', '--build-arg', `BASE_IMAGE=${base}`, '--build-arg', 'NPM_CI=false', '-t', image, context], 900_000);
  const version = await engine.docker(['run', '--rm', '--network', 'none', image, '--version']);
  assert.match(version.stdout, /^\d+\.\d+\.\d+/);
  const whoami = await engine.docker(['run', '--rm', '--network', 'none', '--entrypoint', 'sh', image, '-c', 'id -u; getcap "$(command -v tcpdump)"']);
  assert.match(whoami.stdout, /^10001\n.*tcpdump cap_net_raw=ep\n$/, 'a plain user; tcpdump holds CAP_NET_RAW only');

  const composeFile = join(repoRoot, 'deploy/compose.yaml');
  const project = `wl${engine.id}`;
  const compose = (args: string[]): Promise<unknown> => engine.compose(['-f', composeFile, '-p', project, ...args]);
  process.env.WIRELAB_IMAGE = image;
  teardown.push(() => delete process.env.WIRELAB_IMAGE);
  await compose(['config', '-q']);

  const health = new Stream(engine.spawn('/usr/bin/docker', ['events', '--filter', 'event=health_status', '--format', '{{.Actor.Attributes.name}} {{.Status}}']));
  teardown.push(() => health.stop());
  // (after a pass the engine is gone already: nothing to bring down)
  teardown.push(() => engine.pid !== undefined && compose(['down', '-v', '--remove-orphans', '-t', '5']));
  await compose(['up', '-d', ...SERVICES]);
  const logs = new Stream(engine.spawn('docker-compose', ['-f', composeFile, '-p', project, 'logs', '-f', '--no-color', ...SERVICES]));
  teardown.push(() => logs.stop());
  const events = (service: string, name: string): Record<string, unknown>[] =>
    logs.lines
      .map(parseLogLine)
      .filter((e) => e?.service === service && e.event.event === name)
      .map((e) => e!.event);

  await logs.until(() => NODES.every((node) => events(node, 'message').length > 0), LAB_DEADLINE_MS, 'a broadcast at each of the four nodes');
  await logs.until(() => events('analyzer', 'packet').some((p) => p.protocol === 'wirelab-broadcast'), LAB_DEADLINE_MS, 'the analyzer sees the broadcasts');
  // gossip reached every peer: some peer's message was seen by all twelve
  const origins = (peer: string): Set<unknown> => new Set(events(peer, 'gossip').map((g) => g.origin));
  await logs.until(() => [...origins('peer1')].some((origin) => PEERS.every((peer) => origins(peer).has(origin))), LAB_DEADLINE_MS, 'one message at all twelve peers');
  assert.ok(PEERS.every((peer) => events(peer, 'neighbour').some((n) => n.change === 'added')), 'every peer found neighbours through the seeds');
  await checkChat(engine, image, `${project}_lab`, teardown, (name) => events('chat', name));
  await checkDashboard(engine, (name) => events('dashboard', name));
  const healthy = (): Set<string> => new Set(health.lines.filter((l) => l.endsWith('health_status: healthy')).map((l) => l.split(' ')[0]!));
  await health.until(() => healthy().size >= SERVICES.length, LAB_DEADLINE_MS, `every container healthy (so far: ${[...healthy()].join(' ')})`);

  // init as PID 1 passes SIGTERM on at once: a clean stop (143) in well under the grace period
  const { stdout: node1 } = await engine.compose(['-f', composeFile, '-p', project, 'ps', '-q', 'node1']);
  const started = performance.now();
  await engine.docker(['stop', '-t', '10', node1.trim()]);
  const stopMs = performance.now() - started;
  assert.ok(stopMs < 3000, `docker stop took ${Math.round(stopMs)} ms`);
  assert.equal((await engine.docker(['inspect', '-f', '{{.State.ExitCode}}', node1.trim()])).stdout.trim(), '143');

  await compose(['down', '-v', '--remove-orphans', '-t', '5']);
  logs.stop();
  health.stop();
  assert.equal((await engine.docker(['ps', '-aq'])).stdout, '', 'no container left (no chat client either)');
  assert.equal((await engine.docker(['network', 'ls', '-q', '--filter', `name=${project}`])).stdout, '', 'no network left');
  assert.equal((await engine.docker(['volume', 'ls', '-q'])).stdout, '', 'no volume left');

  await engine.stop();
  assert.deepEqual(mountsUnder([engine.dataRoot, engine.execRoot]), [], 'no mount left');
  assert.doesNotMatch(output('ip', ['netns', 'list']), new RegExp(engine.netns), 'the namespace is gone');
  assert.deepEqual(machineState(), before, 'ip_forward, interfaces and firewall rules as they were');
});

type Events = (name: string) => Record<string, unknown>[];

/**
 * Two users at `wirelab chat client`, each in a container of its own on the lab's network: both
 * register, bob's message shows on alice's screen and alice's answer on bob's, and the server's
 * output agrees; then alice leaves and logs in again with her password (the account in the volume).
 */
async function checkChat(engine: PrivateDockerd, image: string, network: string, teardown: (() => unknown)[], chat: Events): Promise<void> {
  const session = (user: string): ChatSession => {
    const s = new ChatSession(engine, `wl${engine.id}-${user}`, image, network);
    teardown.push(() => s.remove());
    return s;
  };
  const alice = session('alice');
  await alice.logIn({ name: 'alice', password: 'alice-secret-1', register: true }, CHAT_DEADLINE_MS);
  const bob = session('bob');
  await bob.logIn({ name: 'bob', password: 'bob-secret-1', register: true }, CHAT_DEADLINE_MS);
  await alice.expect('Server: Client bob joined the server.', CHAT_DEADLINE_MS);
  const hello = `hello alice, from bob ${engine.id}`;
  bob.type(hello);
  await alice.expect(`Client bob: ${hello}`, CHAT_DEADLINE_MS);
  alice.type('/to bob hi bob, alice here');
  await bob.expect('alice (private): hi bob, alice here', CHAT_DEADLINE_MS);
  const registered = chat('registered').map((e) => e.name);
  assert.deepEqual([...registered].sort(), ['alice', 'bob'], "the server's own output: both registered");
  assert.ok(chat('message').some((m) => m.from === 'bob' && m.to === null && m.text === hello), "the server's own output: bob's message");
  assert.equal(await alice.quit(), 0, alice.output);
  await bob.expect('Server: Client alice left the server.', CHAT_DEADLINE_MS);
  const again = session('alice-again');
  await again.logIn({ name: 'alice', password: 'alice-secret-1', register: false }, CHAT_DEADLINE_MS);
  await bob.expect('Server: Client alice joined the server.', CHAT_DEADLINE_MS);
  assert.equal(await again.quit(), 0, again.output);
  assert.equal(await bob.quit(), 0, bob.output);
}

/**
 * The dashboard, through its own output and its API on 127.0.0.1:8050 in the engine's namespace:
 * packets counted with each wirelab protocol named (it captures the lab's bridge), and its built
 * page served. The counters have no event to await: polled, bounded in time.
 */
async function checkDashboard(engine: PrivateDockerd, dashboard: Events): Promise<void> {
  assert.ok(dashboard('listening').some((e) => e.url === 'http://127.0.0.1:8050/'), 'the dashboard said where it listens');
  const deadline = Date.now() + LAB_DEADLINE_MS;
  let seen: ProtocolCount[] = [];
  let packets = 0;
  const named = (): boolean => PROTOCOLS.every((name) => seen.some((p) => p.protocol === name && p.packets > 0));
  while (!named() && Date.now() < deadline) {
    const stats = await dashboardStats(engine);
    if (stats) ({ packets, protocols: seen } = stats);
    if (!named()) await new Promise((resolve) => setTimeout(resolve, 500));
  }
  assert.ok(packets > 0, 'the dashboard counted packets');
  assert.ok(named(), `the dashboard named ${PROTOCOLS.join(', ')}: ${JSON.stringify(seen)}`);
  const page = await dashboardGet(engine, '/');
  assert.equal(page.status, 200);
  assert.match(page.type, /^text\/html/);
  const script = /<script[^>]*src="\.?\/?(assets\/[^"]+\.js)"/.exec(page.body);
  assert.ok(script, `the built page (Vite's index.html with its script), not a placeholder: ${page.body.slice(0, 200)}`);
  const bundle = await dashboardGet(engine, `/${script[1]!}`);
  assert.equal(bundle.status, 200);
  assert.match(bundle.type, /javascript/);
}
