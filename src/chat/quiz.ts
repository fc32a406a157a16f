/**
 * A running quiz (IO around quiz-format.ts): the files loaded from the operator's folder, one answer
 * per user, each score appended to the CSV under `--data` as it comes, and the end after the time
 * limit or once everybody asked has answered.
 */
import { existsSync } from 'node:fs';
import { appendFile, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { WirelabError } from '../common/errors.js';
import { MAX_QUIZ_FILE_BYTES } from './constants.js';
import { safeFileName } from './protocol.js';
import { parseAnswers, parseQuestions, scoreAnswers, scoreLine, type Quiz } from './quiz-format.js';

/** The operator's `Quiz:DIR:QUESTIONS:ANSWERS:SCORES.csv`, split and checked. */
export interface QuizCommand {
  dir: string;
  questions: string;
  answers: string;
  scores: string;
}

export function parseQuizCommand(rest: string): QuizCommand {
  const parts = rest.split(':').map((p) => p.trim());
  if (parts.length !== 4 || parts.some((p) => p === '')) {
    throw new WirelabError('E_USAGE', 'usage: Quiz:DIR:QUESTIONS:ANSWERS:SCORES.csv');
  }
  const [dir, questions, answers, scores] = parts as [string, string, string, string];
  for (const name of [questions, answers, scores]) {
    if (safeFileName(name) === null) throw new WirelabError('E_USAGE', `not a plain file name: '${name}'`);
  }
  if (!scores.toLowerCase().endsWith('.csv')) throw new WirelabError('E_USAGE', `the scores file must end in .csv: '${scores}'`);
  return { dir, questions, answers, scores };
}

/** A folder named by the operator: relative to the working directory (as in the seed), else to `--data`. */
export function resolveOperatorDir(dir: string, dataDir: string): string {
  if (isAbsolute(dir)) return dir;
  const fromCwd = resolve(dir);
  return existsSync(fromCwd) ? fromCwd : join(dataDir, dir);
}

async function readSmall(path: string): Promise<string> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    throw new WirelabError('E_FILE', `no such file: ${path}`);
  }
  if (size > MAX_QUIZ_FILE_BYTES) throw new WirelabError('E_FILE', `${path} is over ${MAX_QUIZ_FILE_BYTES} bytes`);
  return readFile(path, 'utf8');
}

export async function loadQuiz(command: QuizCommand, dataDir: string): Promise<Quiz> {
  const dir = resolveOperatorDir(command.dir, dataDir);
  let questions;
  try {
    questions = parseQuestions(await readSmall(join(dir, command.questions)));
  } catch (err) {
    if (err instanceof RangeError) throw new WirelabError('E_FILE', `${command.questions}: ${err.message}`);
    throw err;
  }
  const answers = parseAnswers(await readSmall(join(dir, command.answers)));
  if (answers.length !== questions.length) {
    throw new WirelabError('E_FILE', `${questions.length} questions but ${answers.length} answers`);
  }
  return { questions, answers };
}

export class QuizSession {
  readonly scores: Array<{ user: string; score: number }> = [];
  private readonly answered = new Set<string>();
  private writes: Promise<void> = Promise.resolve();

  constructor(
    readonly quiz: Quiz,
    /** users who got the questions */
    readonly participants: ReadonlySet<string>,
    private readonly csvPath: string,
  ) {}

  hasAnswered(user: string): boolean {
    return this.answered.has(user);
  }

  /** Score one user's answers and append the CSV line; returns the score. */
  answer(user: string, answers: readonly string[]): number {
    const score = scoreAnswers(this.quiz.answers, answers);
    this.answered.add(user);
    this.scores.push({ user, score });
    const line = scoreLine(user, score);
    this.writes = this.writes.then(() => appendFile(this.csvPath, line)).catch(() => undefined);
    return score;
  }

  /** Everybody who got the questions and is still online (`isOnline`) has answered. */
  complete(isOnline: (user: string) => boolean): boolean {
    for (const user of this.participants) if (isOnline(user) && !this.answered.has(user)) return false;
    return true;
  }

  /** Resolves when every CSV line so far is on disk. */
  settled(): Promise<void> {
    return this.writes;
  }
}
