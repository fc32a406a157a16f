/**
 * The seed's quiz files and texts (pure). Questions file: a question line, then option lines
 * starting `a.`, `b.`... (or all options on one `a.` line), a blank line between questions. Answers
 * file: whitespace-separated letters. The quiz_question payload is, per question,
 * `Question N: Q\n\nOptions: OPTS\n\n` + 29 dashes + `\n\n`.
 */
import { MAX_QUIZ_QUESTIONS } from './constants.js';
import { csvCell } from './protocol.js';

export interface QuizQuestion {
  question: string;
  /** the options as one line, as the seed prints them */
  options: string;
}

export interface Quiz {
  questions: QuizQuestion[];
  answers: string[];
}

const OPTION_RE = /^[a-z]\.\s/i;
const RULE = '-'.repeat(29);

/** Parse the questions file. Throws a RangeError with a reason for a malformed file. */
export function parseQuestions(text: string): QuizQuestion[] {
  const questions: QuizQuestion[] = [];
  let current: { question: string; options: string[] } | null = null;
  const finish = (): void => {
    if (current) questions.push({ question: current.question, options: current.options.join(' ') });
    current = null;
  };
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') {
      finish();
      continue;
    }
    if (current !== null && OPTION_RE.test(line)) {
      (current as { options: string[] }).options.push(line);
      continue;
    }
    finish();
    current = { question: line, options: [] };
  }
  finish();
  if (questions.length === 0) throw new RangeError('no questions found');
  if (questions.length > MAX_QUIZ_QUESTIONS) throw new RangeError(`more than ${MAX_QUIZ_QUESTIONS} questions`);
  return questions;
}

/** Parse the answers file: one letter per question, separated by white space. */
export function parseAnswers(text: string): string[] {
  return text.split(/\s+/).filter((a) => a !== '');
}

/** The quiz_question payload of the seed, byte for byte. */
export function formatQuestions(questions: readonly QuizQuestion[]): string {
  return questions.map((q, i) => `Question ${i + 1}: ${q.question}\n\nOptions: ${q.options}\n\n${RULE}\n\n`).join('');
}

/** Score an answer list: one point per position that matches (case-insensitive); missing answers score 0. */
export function scoreAnswers(correct: readonly string[], given: readonly string[]): number {
  let score = 0;
  for (let i = 0; i < correct.length; i++) {
    if (given[i] !== undefined && given[i]!.toLowerCase() === correct[i]!.toLowerCase()) score++;
  }
  return score;
}

/** One line of the scores CSV (the seed's `USER,SCORE\n`), cells escaped against formula injection. */
export function scoreLine(user: string, score: number): string {
  return `${csvCell(user)},${score}\n`;
}

/** The leaderboard sent to every client when the quiz ends. */
export function formatLeaderboard(scores: ReadonlyArray<{ user: string; score: number }>, total: number): string {
  if (scores.length === 0) return 'Server: Quiz results: nobody answered.\n';
  const sorted = [...scores].sort((a, b) => b.score - a.score || (a.user < b.user ? -1 : 1));
  const lines = sorted.map((s, i) => `${i + 1}. ${s.user} ${s.score}/${total}`);
  return `Server: Quiz results:\n${lines.join('\n')}\n`;
}
