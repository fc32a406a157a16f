/**
 * The operator's console (the seed's server stdin): `send_file:NAME|all:DIR:FILE`,
 * `Quiz:DIR:QUESTIONS:ANSWERS:SCORES.csv`, `users`, `kick NAME`, `shutdown`; any other line is an
 * announcement to everybody (`Server: LINE`).
 */
import { join } from 'node:path';
import { WirelabError } from '../common/errors.js';
import type { ChatServer } from './server.js';
import { safeFileName } from './protocol.js';
import { QuizSession, loadQuiz, parseQuizCommand, resolveOperatorDir } from './quiz.js';
import { formatQuestions } from './quiz-format.js';

export type ConsoleResult = { kind: 'ok'; text: string } | { kind: 'error'; text: string } | { kind: 'shutdown' };

/** Run one console line. Never throws: a mistake comes back as an error text for the operator. */
export async function runConsoleLine(server: ChatServer, line: string): Promise<ConsoleResult> {
  const text = line.replace(/\r?\n$/, '');
  if (text.trim() === '') return { kind: 'ok', text: '' };
  try {
    return await dispatch(server, text);
  } catch (err) {
    return { kind: 'error', text: err instanceof Error ? err.message : String(err) };
  }
}

async function dispatch(server: ChatServer, text: string): Promise<ConsoleResult> {
  const trimmed = text.trim();
  if (trimmed === 'shutdown') return { kind: 'shutdown' };
  if (trimmed === 'users') {
    const names = server.onlineNames().sort();
    return { kind: 'ok', text: `${names.length} online${names.length ? ': ' + names.join(', ') : ''}` };
  }
  if (/^kick\s/.test(trimmed)) {
    const name = trimmed.slice(5).trim();
    if (!server.kick(name)) throw new WirelabError('E_USAGE', `no user named '${name}' is online`);
    return { kind: 'ok', text: `kicked ${name}` };
  }
  if (text.startsWith('send_file:')) return sendFile(server, text.slice('send_file:'.length));
  if (text.startsWith('Quiz:')) return quiz(server, text.slice('Quiz:'.length));
  server.announce(text);
  return { kind: 'ok', text: '' };
}

async function sendFile(server: ChatServer, rest: string): Promise<ConsoleResult> {
  const parts = rest.split(':');
  if (parts.length !== 3 || parts.some((p) => p.trim() === '')) throw new WirelabError('E_USAGE', 'usage: send_file:NAME|all:DIR:FILE');
  const [target, dir, file] = parts.map((p) => p.trim()) as [string, string, string];
  if (safeFileName(file) === null) throw new WirelabError('E_USAGE', `not a plain file name: '${file}'`);
  const targets = target === 'all' ? server.onlineNames().map((n) => server.user(n)!) : [server.user(target)].filter((c) => c !== undefined);
  if (targets.length === 0) throw new WirelabError('E_USAGE', target === 'all' ? 'nobody is online' : `no user named '${target}' is online`);
  const path = join(resolveOperatorDir(dir, server.options.dataDir), file);
  let size: number;
  try {
    ({ size } = await server.transfers.sendFromServer(path, targets));
  } catch {
    throw new WirelabError('E_FILE', `cannot read ${path}`);
  }
  return { kind: 'ok', text: `sending ${file} (${size} bytes) to ${targets.map((t) => t.name).join(', ')}` };
}

async function quiz(server: ChatServer, rest: string): Promise<ConsoleResult> {
  if (server.quizRunning) throw new WirelabError('E_USAGE', 'a quiz is already running');
  const command = parseQuizCommand(rest);
  const loaded = await loadQuiz(command, server.options.dataDir);
  const participants = new Set(server.onlineNames());
  if (participants.size === 0) throw new WirelabError('E_USAGE', 'nobody is online');
  const session = new QuizSession(loaded, participants, join(server.store.scoresDir, command.scores));
  server.startQuiz(session, formatQuestions(loaded.questions));
  return { kind: 'ok', text: `quiz of ${loaded.questions.length} questions sent to ${participants.size} users` };
}
