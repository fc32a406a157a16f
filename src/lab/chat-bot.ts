/**
 * A scripted chat user for the demo, run as a script (`chat-bot.ts --host H --port P --name N --role
 * R --dir D`), inside a lab host's namespace or on loopback. It registers, then: `talk` says something
 * every few seconds, `file` also sends D/FILE_NAME to the server, every role answers a quiz when one
 * comes (`quiz` with the right answers, the others with a guess). It prints NDJSON events like the
 * wirelab command (`joined`, `said`, `heard`, `file-sent`, `quiz-answered`, `quiz-results`) and leaves
 * with `cmd:disconnect` on SIGTERM, SIGINT or SIGHUP.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { ChatClient } from '../chat/index.js';

/** the file the `file` role sends, inside --dir */
export const BOT_FILE_NAME = 'lab-notes.txt';
/** ms between two messages of one bot */
const SAY_EVERY_MS = 3_000;
/** messages a bot says at most (a bounded loop) */
const MAX_SAID = 10_000;
/** characters of a heard message printed at most */
const MAX_HEARD_CHARS = 200;

export type BotRole = 'talk' | 'file' | 'quiz';

function emit(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, ...fields, time: Date.now() / 1000 })}\n`);
}

/** What a bot answers: the quiz bot knows (`answers`), the others guess the same letter everywhere. */
function answerFor(role: BotRole, answers: string, questionText: string): string {
  if (role === 'quiz') return answers;
  const questions = (questionText.match(/Question \d+:/g) ?? []).length || answers.split(/\s+/).length;
  return Array.from({ length: questions }, () => (role === 'talk' ? 'a' : 'b')).join(' ');
}

async function run(options: { host: string; port: number; name: string; role: BotRole; dir: string; answers: string }): Promise<void> {
  const client = new ChatClient({ host: options.host, port: options.port, downloadsDir: join(options.dir, `downloads-${options.name}`) });
  let stopping = false;
  client.on('close', ({ reason }) => {
    emit('closed', { name: options.name, reason });
    process.exit(stopping ? 0 : 1);
  });
  client.on('text', ({ header, text }) => {
    if (header === 'quiz_question') {
      const answer = answerFor(options.role, options.answers, text);
      client.write('quiz_answer', answer);
      emit('quiz-answered', { name: options.name, answer });
    } else if (text.startsWith('Server: Quiz results:')) {
      emit('quiz-results', { name: options.name, text: text.slice(0, MAX_HEARD_CHARS) });
    } else if (header === 'msg') {
      emit('heard', { name: options.name, text: text.slice(0, MAX_HEARD_CHARS) });
    }
  });
  const stop = (): void => {
    stopping = true;
    client.quit().then(
      () => process.exit(0),
      () => process.exit(0),
    );
  };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(signal, stop);
  await client.connect();
  let suffix = 1;
  await client.login({ register: true, name: options.name, password: `demo-${options.name}-pass` }, () => Promise.resolve(`${options.name}${++suffix}`));
  emit('joined', { name: client.name, extended: client.extended });
  if (options.role === 'file') {
    const sent = await client.sendFile(join(options.dir, BOT_FILE_NAME), null);
    emit('file-sent', { name: client.name, file: BOT_FILE_NAME, size: sent.size });
  }
  for (let said = 1; said <= MAX_SAID && !stopping; said++) {
    const text = `${options.name} here, message ${said}`;
    client.write('msg', text);
    emit('said', { name: client.name, text });
    await new Promise((resolve) => setTimeout(resolve, SAY_EVERY_MS));
  }
}

function main(): void {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      name: { type: 'string' },
      role: { type: 'string', default: 'talk' },
      dir: { type: 'string' },
      answers: { type: 'string', default: '' },
    },
  });
  const port = Number(values.port);
  const role = values.role as BotRole;
  if (!Number.isInteger(port) || !values.name || !values.dir || !['talk', 'file', 'quiz'].includes(role)) {
    process.stderr.write('usage: chat-bot --port P --name N --dir D [--host H] [--role talk|file|quiz] [--answers "a b"]\n');
    process.exit(2);
  }
  run({ host: values.host, port, name: values.name, role, dir: values.dir, answers: values.answers }).catch((err: unknown) => {
    process.stderr.write(`chat-bot ${values.name}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
