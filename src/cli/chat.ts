/**
 * `wirelab chat server` and `wirelab chat client` (seed 003): thin shell around src/chat. The server
 * reads operator commands on stdin (a terminal or a pipe) and prints one line (or NDJSON event) per
 * thing that happens; the client is an interactive readline program (chat-client.ts).
 */
import { readFile, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { WirelabError } from '../common/errors.js';
import { ChatServer, DEFAULT_PORT, MAX_PARTIAL_BYTES, MAX_QUEUED_BYTES, PARTIAL_TTL_MS, escapeControl, runConsoleLine, type ChatServerEvents } from '../chat/index.js';
import { Output, addExamples, addOutputOptions, commandLogger, durationOption, portOption, positiveInt, signalExitCode, untilStopped, type OutputOptions } from './shared.js';
import { registerClient } from './chat-client.js';

interface ServerFlags extends OutputOptions {
  host: string;
  port: number;
  data: string;
  tlsCert?: string;
  tlsKey?: string;
  quizTime: number;
  loginTimeout: number;
  maxQueued: number;
  partialTtl: number;
  partialMax: number;
}

/** How each server event reads to a person (wire text escaped). */
const human: { [K in keyof ChatServerEvents]: (e: ChatServerEvents[K][0]) => string } = {
  listening: (e) => `listening on ${e.host}:${e.port}${e.tls ? ' (TLS)' : ''}`,
  connected: (e) => `connection ${e.id} from ${e.address}`,
  registered: (e) => `registered ${e.name} from ${e.address}`,
  joined: (e) => `${e.name} joined from ${e.address}`,
  'login-failed': (e) => `login failed for '${escapeControl(e.name)}' from ${e.address}: ${e.reason}`,
  left: (e) => `${e.name ?? `connection ${e.id}`} left (${e.reason})`,
  message: (e) => (e.to === null ? `Client ${e.from}: ${escapeControl(e.text)}` : `${e.from} -> ${e.to} (private): ${escapeControl(e.text)}`),
  announcement: (e) => `Server: ${escapeControl(e.text)}`,
  file: (e) => `file '${escapeControl(e.name)}' (${e.size} bytes, sha256 ${e.sha256.slice(0, 12)}) from ${e.from} to ${e.to ?? 'the server'}`,
  'file-refused': (e) => `file '${escapeControl(e.name)}' from ${e.from ?? '?'} refused: ${e.reason}`,
  'protocol-error': (e) => `protocol error from ${e.name ?? e.address}: ${escapeControl(e.reason)}`,
  'quiz-started': (e) => `quiz of ${e.questions} questions sent to ${e.participants.join(', ')}`,
  'quiz-answer': (e) => `quiz: ${e.name} scored ${e.score}/${e.total}`,
  'quiz-ended': (e) => `quiz over: ${e.scores.map((s) => `${s.user} ${s.score}/${e.total}`).join(', ') || 'nobody answered'}`,
  kicked: (e) => `kicked ${e.name}`,
  'slow-client': (e) => `disconnected ${e.name ?? `connection ${e.id}`}: not reading`,
  'partials-removed': (e) => `removed ${e.files} expired or excess resume file(s), ${e.bytes} bytes`,
  shutdown: (e) => `server closed: ${String(e.logins)} logins, ${String(e.messages)} messages, ${String(e.privateMessages)} private, ${String(e.files)} files`,
};

async function readPem(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch {
    throw new WirelabError('E_USAGE', `${what}: cannot read ${path}`);
  }
}

async function checkDataDir(dir: string): Promise<void> {
  try {
    if (!(await stat(dir)).isDirectory()) throw new WirelabError('E_USAGE', `--data: ${dir} is not a directory`);
  } catch (err) {
    if (err instanceof WirelabError) throw err;
  }
}

async function runServer(flags: ServerFlags): Promise<void> {
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) throw new WirelabError('E_USAGE', '--tls-cert and --tls-key go together');
  await checkDataDir(flags.data);
  const tls = flags.tlsCert && flags.tlsKey ? { cert: await readPem(flags.tlsCert, '--tls-cert'), key: await readPem(flags.tlsKey, '--tls-key') } : undefined;
  const out = new Output(flags);
  // events are the output already: stderr shows only errors unless -v; --log FILE gets every event
  const logger = commandLogger(flags, 'chat-server', true);
  const server = new ChatServer(
    {
      host: flags.host,
      port: flags.port,
      dataDir: flags.data,
      tls,
      quizMs: flags.quizTime,
      loginTimeoutMs: flags.loginTimeout,
      maxQueuedBytes: flags.maxQueued,
      partialTtlMs: flags.partialTtl,
      maxPartialBytes: flags.partialMax,
    },
    { logger },
  );
  // every event of the server becomes one output line (the typed map above says how it reads)
  const events = server as unknown as NodeJS.EventEmitter;
  for (const name of Object.keys(human) as Array<keyof ChatServerEvents>) {
    const describe = human[name] as (f: Record<string, unknown>) => string;
    events.on(name, (fields: Record<string, unknown>) => out.event(name, fields, describe(fields)));
  }
  const stopped = untilStopped();
  await server.start();
  const operatorShutdown = new Promise<string>((resolve) => {
    const rl = createInterface({ input: process.stdin, terminal: false });
    let chain = Promise.resolve();
    rl.on('line', (line) => {
      chain = chain.then(async () => {
        const result = await runConsoleLine(server, line);
        if (result.kind === 'shutdown') resolve('shutdown');
        else if (result.kind === 'error') out.event('console-error', { text: result.text }, `console: ${result.text}`);
        else if (result.text) out.event('console', { text: result.text }, result.text);
      });
    });
  });
  const why = await Promise.race([stopped, operatorShutdown]);
  await server.close();
  out.flush();
  // stdin stays open (the operator console), so leave explicitly: 128+N after a signal's clean stop, 0
  // after `shutdown` (docs/cli.md)
  process.exit(why === 'shutdown' ? 0 : signalExitCode(why as NodeJS.Signals));
}

export function register(program: Command): void {
  const chat = program.command('chat').description('a TCP chat server and client with file transfer and quizzes (seed 003)');
  addExamples(chat, [
    ['chat server', 'the server on 127.0.0.1:10000; operator commands on stdin'],
    ['chat client', 'log in or register, then chat (/help lists the commands)'],
  ]);
  const server = chat
    .command('server')
    .description("run the chat server; type operator commands on stdin: a line to announce, 'users', 'kick NAME', 'send_file:NAME|all:DIR:FILE', 'Quiz:DIR:QUESTIONS:ANSWERS:SCORES.csv', 'shutdown'")
    .option('--host <ip>', 'address to listen on', '127.0.0.1')
    .addOption(portOption('--port <port>', 'TCP port (0: any free port)', DEFAULT_PORT))
    .option('--data <dir>', 'state directory: accounts.db, files/, all_quiz_scores/', 'chat-data')
    .option('--tls-cert <file>', 'PEM certificate: serve TLS instead of plain TCP (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .addOption(durationOption('--quiz-time <duration>', 'time to answer a quiz', 60_000))
    .addOption(durationOption('--login-timeout <duration>', 'disconnect a client not logged in by then', 30_000))
    .option('--max-queued <bytes>', 'bytes queued for one client before it is disconnected as not reading', positiveInt('--max-queued'), MAX_QUEUED_BYTES)
    .addOption(durationOption('--partial-ttl <duration>', 'parts of broken transfers kept for a resume are removed after this long', PARTIAL_TTL_MS))
    .option('--partial-max <bytes>', 'bytes those parts may hold together before the oldest are removed', positiveInt('--partial-max'), MAX_PARTIAL_BYTES);
  addOutputOptions(server).action((flags: ServerFlags) => runServer(flags));
  addExamples(server, [
    ['chat server', 'listen on 127.0.0.1:10000, accounts and files under ./chat-data'],
    ['chat server --port 0 --data /tmp/chat --json', 'any free port, events as NDJSON'],
    ['chat server --tls-cert cert.pem --tls-key key.pem --quiz-time 2m', 'TLS, two minutes per quiz'],
    ["chat server --port 10001 < commands.txt", 'operator commands from a file (a line to announce, then shutdown)'],
  ]);
  registerClient(chat);
}
