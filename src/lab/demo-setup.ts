/**
 * What the demo prepares before it starts anything: its temporary directory (the chat server's data,
 * the quiz, the file a scripted client sends, the gossip seed list, the relay's socket), the ports
 * it prefers on loopback (the well-known ones, so the analyzer names the protocols), and whether the
 * dashboard can run here. Everything made here is removed by `DemoFiles.remove()`.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../common/net.js';
import { BOT_FILE_NAME } from './chat-bot.js';

/** The quiz the scripted clients take: the seed's format (docs/chat.md, "Quiz"). */
export const QUIZ = {
  questions: [
    'Which transport does the broadcast master use?\na. UDP\nb. TCP\nc. ICMP',
    'What does a gossip seed hand a joining peer?\na. a file\nb. a list of peers\nc. a quiz',
    'Which port does the chat server listen on by default?\na. 8050\nb. 12345\nc. 10000',
  ].join('\n\n'),
  answers: 'a b c',
};

export class DemoFiles {
  readonly dir: string;
  readonly chatData: string;
  readonly quizDir: string;
  readonly seedsFile: string;
  readonly relaySocket: string;
  private removed = false;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'wirelab-demo-'));
    this.chatData = join(this.dir, 'chat-data');
    this.quizDir = join(this.dir, 'quiz');
    this.seedsFile = join(this.dir, 'seeds.txt');
    this.relaySocket = join(this.dir, 'dashboard.sock');
    mkdirSync(this.chatData);
    mkdirSync(this.quizDir);
    writeFileSync(join(this.quizDir, 'questions.txt'), `${QUIZ.questions}\n`);
    writeFileSync(join(this.quizDir, 'answers.txt'), `${QUIZ.answers}\n`);
    writeFileSync(join(this.dir, BOT_FILE_NAME), 'Notes from the lab: a master, four nodes, three seeds, twenty peers, one chat server.\n'.repeat(200));
  }

  /** The operator's console line that starts the quiz. */
  get quizCommand(): string {
    return `Quiz:${this.quizDir}:questions.txt:answers.txt:demo-scores.csv`;
  }

  /** Write the gossip seed list (one IP:PORT a line). */
  writeSeeds(seeds: { address: string; port: number }[]): void {
    writeFileSync(this.seedsFile, seeds.map((s) => `${s.address}:${s.port}`).join('\n') + '\n');
  }

  /** Remove the directory and all in it. Idempotent; synchronous, so it also runs at exit. */
  remove(): void {
    if (this.removed) return;
    this.removed = true;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Whether `port` can be bound on 127.0.0.1 right now. */
async function portFree(protocol: 'udp' | 'tcp', port: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (protocol === 'tcp') {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
      return;
    }
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

/** The well-known port when it is free on loopback (so the analyzer names the protocol), else any. */
export async function preferPort(protocol: 'udp' | 'tcp', port: number): Promise<number> {
  return (await portFree(protocol, port)) ? port : freePort(protocol);
}

/** Why the dashboard cannot show this demo, or undefined when it can. */
export function dashboardUnavailableReason(namespaces: boolean): string | undefined {
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  if (!existsSync(fileURLToPath(new URL(`../dashboard/index.${ext}`, import.meta.url)))) return 'this wirelab has no dashboard yet';
  if (!namespaces && process.getuid?.() !== 0) return 'a live capture needs root (run the demo with sudo)';
  try {
    execFileSync('tcpdump', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'tcpdump is missing (scripts/setup.sh installs it)';
  }
  return undefined;
}
