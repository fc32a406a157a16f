/**
 * `wirelab chat client`: the seed's dialogue (registered? name, password hidden), messages printed as
 * they arrive while you type (readline), the seed's `HEADER:payload` syntax plus /msg, /to, /send,
 * /users, /quit, /help, transfer progress, received files under --downloads.
 */
import { readFile } from 'node:fs/promises';
import { createInterface, type Interface } from 'node:readline';
import type { Command } from 'commander';
import { WirelabError } from '../common/errors.js';
import { ChatClient, DEFAULT_PORT, escapeControl } from '../chat/index.js';
import { epochSeconds, formatClock, groupDigits } from '../common/format.js';
import { addExamples, portOption } from './shared.js';

interface ClientFlags {
  host: string;
  port: number;
  tls?: boolean;
  ca?: string;
  downloads: string;
  extensions: boolean;
  utc?: boolean;
}

const HELP = `Commands:
  TEXT                      a message to everybody (as msg:TEXT)
  /msg TEXT                 a message to everybody
  /to NAME TEXT             a private message to NAME
  /send FILE [NAME]         send FILE to the server, or to user NAME
  /users                    who is online
  /quit                     leave
  /help                     this help
The seed's syntax works too: msg:TEXT, to:NAME:TEXT, cmd:disconnect, quiz_answer:a b c,
file_transfer:file_to_server:FILE, file_transfer:file_to:NAME:FILE.`;

const SEED_HEADERS = new Set(['msg', 'to', 'cmd', 'info', 'quiz_answer']);

class Terminal {
  private muted = false;
  readonly rl: Interface;

  constructor(private readonly utc: boolean) {
    this.rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY === true });
    // hide what is typed while muted (the password): readline echoes through this method
    const rl = this.rl as unknown as { _writeToOutput: (s: string) => void };
    const write = rl._writeToOutput.bind(rl);
    rl._writeToOutput = (s: string) => {
      if (!this.muted) write(s);
    };
  }

  ask(question: string, hidden = false): Promise<string> {
    return new Promise((resolve, reject) => {
      const onClose = (): void => reject(new WirelabError('E_USAGE', 'input ended'));
      this.rl.once('close', onClose);
      this.rl.question(question, (answer) => {
        this.rl.off('close', onClose);
        if (hidden) {
          this.muted = false;
          process.stdout.write('\n');
        }
        resolve(answer.trim());
      });
      if (hidden) this.muted = true;
    });
  }

  /** Print a line above what the user is typing. */
  print(text: string): void {
    const stamp = formatClock(epochSeconds(), { utc: this.utc });
    const lines = text.replace(/\n+$/, '').split('\n').map((l) => `${stamp} ${l}`).join('\n');
    process.stdout.write(`\r\x1b[K${lines}\n`);
    this.rl.prompt(true);
  }
}

function progress(term: Terminal): (e: { direction: 'up' | 'down'; name: string; bytes: number; size: number | null }) => void {
  let lastAt = 0;
  let lastName = '';
  return (e) => {
    const now = Date.now();
    const done = e.size !== null && e.bytes >= e.size;
    if (e.name === lastName && now - lastAt < 1000 && !done) return;
    lastAt = now;
    lastName = e.name;
    const pct = e.size ? ` ${Math.floor((e.bytes / e.size) * 100)}%` : '';
    term.print(`${e.direction === 'up' ? 'sending' : 'receiving'} ${escapeControl(e.name)}:${pct} ${groupDigits(e.bytes)} bytes`);
  };
}

async function login(client: ChatClient, term: Terminal): Promise<void> {
  await client.waitPrompt();
  const answer = (await term.ask('Are you already registered? (yes/no): ')).toLowerCase();
  const register = answer !== 'yes' && answer !== 'y';
  const name = await term.ask(register ? 'Enter a username: ' : 'Enter your username: ');
  const password = await term.ask(register ? 'Enter a password: ' : 'Enter your password: ', true);
  await client.login({ register, name, password }, (text) => term.ask(escapeControl(text)));
}

/** One typed line. Returns false to quit. */
function onLine(client: ChatClient, term: Terminal, line: string): boolean {
  const text = line.trim();
  if (text === '') return true;
  const [command, ...args] = text.split(/\s+/);
  const rest = (n: number): string => text.split(/\s+/).slice(n).join(' ');
  const send = (path: string, to: string | null): void => {
    client.sendFile(path, to).then(
      () => term.print(`sent ${path}${to ? ` to ${to}` : ' to the server'}`),
      (err: Error) => term.print(`could not send ${path}: ${err.message}`),
    );
  };
  switch (command) {
    case undefined:
      return true;
    case '/quit':
      return false;
    case '/help':
      term.print(HELP);
      return true;
    case '/users':
      client.write('cmd', 'users');
      return true;
    case '/msg':
      client.write('msg', rest(1));
      return true;
    case '/to':
      if (args.length < 2) term.print('usage: /to NAME TEXT');
      else client.write('to', `${args[0]}:${rest(2)}`);
      return true;
    case '/send':
      if (args.length < 1) term.print('usage: /send FILE [NAME]');
      else send(args[0]!, args[1] ?? null);
      return true;
  }
  if (text.startsWith('/')) {
    term.print(`unknown command ${command}; /help lists them`);
    return true;
  }
  if (text === 'cmd:disconnect') return false;
  const upload = /^file_transfer:file_to_server:(.+)$/.exec(text);
  const relay = /^file_transfer:file_to:([^:]+):(.+)$/.exec(text);
  if (upload) send(upload[1]!, null);
  else if (relay) send(relay[2]!, relay[1]!);
  else if (SEED_HEADERS.has(text.slice(0, text.indexOf(':')))) client.sendLine(text);
  else client.write('msg', text);
  return true;
}

async function runClient(flags: ClientFlags): Promise<void> {
  if (flags.ca && !flags.tls) throw new WirelabError('E_USAGE', '--ca needs --tls');
  let ca: Buffer | undefined;
  if (flags.ca) ca = await readFile(flags.ca).catch(() => { throw new WirelabError('E_USAGE', `--ca: cannot read ${flags.ca}`); });
  const client = new ChatClient({ host: flags.host, port: flags.port, tls: flags.tls ? { ca } : undefined, downloadsDir: flags.downloads, extended: flags.extensions });
  await client.connect();
  const term = new Terminal(flags.utc === true);
  process.stdout.write(`Connected to ${flags.host}:${flags.port}${flags.tls ? ' (TLS)' : ''}\n`);
  let quitting = false;
  const closed = new Promise<string>((resolve) => client.once('close', (e) => resolve(e.reason)));
  void closed.then((reason) => {
    if (quitting) return;
    term.print(`Disconnected: ${reason}.`);
    term.rl.close();
    process.exit(1);
  });
  client.on('text', (e) => term.print(escapeControl(e.text)));
  try {
    await login(client, term);
  } catch (err) {
    quitting = true;
    client.destroy();
    term.rl.close();
    throw err;
  }
  client.on('file-incoming', (e) => {
    if (e.offset > 0) term.print(`resuming ${escapeControl(e.name)} from ${escapeControl(e.from)} at byte ${groupDigits(e.offset)}`);
  });
  client.on('file-progress', progress(term));
  client.on('file-saved', (e) => term.print(`saved ${escapeControl(e.name)} (${groupDigits(e.size)} bytes${e.verified ? ', SHA-256 checked' : ''}) to ${e.path}`));
  client.on('file-failed', (e) => term.print(`file ${escapeControl(e.name)} failed: ${e.reason}`));
  term.print(`${client.extended ? 'wirelab server: files are checked with SHA-256 and resumable' : 'seed server: plain file transfers'}; /help for commands`);
  term.rl.setPrompt('> ');
  term.rl.prompt();
  for await (const line of term.rl) {
    if (!onLine(client, term, line)) break;
    term.rl.prompt();
  }
  quitting = true;
  await client.quit();
  term.rl.close();
  process.exit(0);
}

export function registerClient(chat: Command): void {
  const client = chat
    .command('client')
    .description('connect to a chat server (ours or the seed\'s) and chat interactively')
    .option('--host <host>', 'server address', '127.0.0.1')
    .addOption(portOption('--port <port>', 'server port', DEFAULT_PORT))
    .option('--tls', 'connect with TLS')
    .option('--ca <file>', 'PEM certificate authority to trust (with --tls)')
    .option('--downloads <dir>', 'where received files are saved', 'downloads')
    .option('--no-extensions', "speak only the seed's protocol (no SHA-256 checked, resumable files)")
    .option('--utc', 'print times in UTC instead of local time')
    .addHelpText('after', `\n${HELP}`)
    .action((flags: ClientFlags) => runClient(flags));
  addExamples(client, [
    ['chat client', 'connect to 127.0.0.1:10000, log in or register'],
    ['chat client --host 127.0.0.1 --port 10000 --downloads ~/chat-files', 'received files saved under ~/chat-files'],
    ['chat client --tls --ca ca.pem --port 10443', 'a TLS server whose certificate ca.pem signed'],
  ]);
}
