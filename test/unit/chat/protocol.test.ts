/** Parsing of client records, safe file names, escaping, and the seed's quiz texts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { csvCell, escapeControl, isRawTransfer, isValidUserName, parseClientRecord, parseDownloadOffer, parseFileOffer, safeFileName } from '../../../src/chat/protocol.js';
import { formatLeaderboard, formatQuestions, parseAnswers, parseQuestions, scoreAnswers, scoreLine } from '../../../src/chat/quiz-format.js';

const fixture = (path: string): string => readFileSync(new URL(`../../fixtures/chat/${path}`, import.meta.url), 'utf8');
const session = (JSON.parse(fixture('seed-session.json')) as { records: Array<{ header: string | null; text: string }> }).records;

test('client records parse as the seed splits them (at the first colon)', () => {
  const p = (h: string, s: string): unknown => parseClientRecord(h, Buffer.from(s));
  assert.deepEqual(p('msg', 'hello: there'), { type: 'group', text: 'hello: there' });
  assert.deepEqual(p('to', 'kapil: HI Kapil'), { type: 'private', to: 'kapil', text: ' HI Kapil' });
  assert.deepEqual(p('to', 'nocolon'), { type: 'invalid', reason: 'format' });
  assert.deepEqual(p('cmd', 'disconnect'), { type: 'command', command: 'disconnect' });
  assert.deepEqual(p('file_transfer', 'file_to_server:sample.txt'), { type: 'upload', name: 'sample.txt' });
  assert.deepEqual(p('file_transfer', 'file_to:bob:sample.txt'), { type: 'relay', to: 'bob', name: 'sample.txt' });
  assert.deepEqual(p('quiz_answer', 'a  b\tc'), { type: 'quiz-answer', answers: ['a', 'b', 'c'] });
  assert.deepEqual(p('foo', 'bar'), { type: 'invalid', reason: 'header' });
  assert.deepEqual(parseClientRecord('msg', Buffer.from('636166c3', 'hex')), { type: 'invalid', reason: 'text' });
  assert.deepEqual(p('file_offer', '{"id":1}'), { type: 'invalid', reason: 'format' });
  assert.deepEqual(p('file_offer', 'not json'), { type: 'invalid', reason: 'format' });
});

test('raw transfers follow only the seed file_transfer records', () => {
  assert.equal(isRawTransfer('file_transfer', Buffer.from('file_to_server:x')), true);
  assert.equal(isRawTransfer('file_transfer', Buffer.from('file_to:bob:x')), true);
  assert.equal(isRawTransfer('file_transfer', Buffer.from('nonsense')), false);
  assert.equal(isRawTransfer('msg', Buffer.from('file_to:bob:x')), false);
});

test('file names from the network cannot leave their folder', () => {
  assert.equal(safeFileName('sample.txt\n'), 'sample.txt'); // the seed's trailing newline
  assert.equal(safeFileName('café.txt'), 'café.txt');
  for (const bad of ['../etc/passwd', '/etc/passwd', '..', '.', '.hidden', 'a/b', 'a\\b', 'a\0b', 'x\n\n', 'C:evil', 'a\x1bb', '', 'x'.repeat(201), 'trail.', 'trail ']) {
    assert.equal(safeFileName(bad), null, JSON.stringify(bad));
  }
});

test('user names fit to:NAME:TEXT, paths and CSV', () => {
  for (const ok of ['alice', 'vivek_sapkal', 'a.b-c', 'x1']) assert.ok(isValidUserName(ok), ok);
  for (const bad of ['', 'a:b', '-rf', '=cmd', '../x', 'a b', 'x'.repeat(33), 'é']) assert.ok(!isValidUserName(bad), bad);
});

test('terminal escaping and CSV cells', () => {
  assert.equal(escapeControl('hi\x1b[31mred\x07\r\n\t'), 'hi\\x1b[31mred\\x07\\x0d\n\t');
  assert.equal(csvCell('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
  assert.equal(csvCell('+1'), "'+1");
  assert.equal(csvCell('alice'), 'alice');
  assert.equal(scoreLine('@SUM(A1)', 2), "'@SUM(A1),2\n");
});

test('file offers, ends, resumes and confirmations are validated', () => {
  const sha = 'a'.repeat(64);
  const p = (h: string, value: unknown): unknown => parseClientRecord(h, Buffer.from(JSON.stringify(value)));
  assert.deepEqual(parseFileOffer(JSON.stringify({ id: 1, to: null, name: 'x', size: 3, mtime: 5 })), { id: 1, to: null, name: 'x', size: 3, mtime: 5 });
  assert.equal(parseFileOffer(JSON.stringify({ id: -1, name: 'x', size: 3 })), null);
  assert.equal(parseFileOffer(JSON.stringify({ id: 1, name: 'x', size: -3 })), null);
  // the upload's hash comes at the end
  assert.deepEqual(p('file_end', { id: 7, sha256: sha }), { type: 'file-end', id: 7, sha256: sha });
  assert.deepEqual(p('file_end', { id: 7 }), { type: 'invalid', reason: 'format' });
  assert.deepEqual(p('file_end', { id: 7, sha256: 'zz' }), { type: 'invalid', reason: 'format' });
  assert.deepEqual(p('file_resume', { sha256: sha, size: 10, offset: 4 }), { type: 'file-resume', resume: { sha256: sha, size: 10, offset: 4 } });
  assert.deepEqual(p('file_resume', { sha256: sha, size: 10 }), { type: 'invalid', reason: 'format' });
  assert.deepEqual(p('file_received', { id: 3 }), { type: 'file-received', id: 3 });
  // server to client: the hash is known up front, an offset marks a resumed download
  assert.deepEqual(parseDownloadOffer(JSON.stringify({ id: 2, from: 'server', name: 'x', size: 3, sha256: sha, offset: 1 })), { id: 2, from: 'server', name: 'x', size: 3, sha256: sha, offset: 1 });
  assert.equal(parseDownloadOffer(JSON.stringify({ id: 2, from: 'server', name: 'x', size: 3 })), null);
});

test('the quiz payload is the reference quiz_question record, byte for byte', () => {
  const questions = parseQuestions(fixture('quiz_dir/quiz_ques.txt'));
  const reference = session.find((r) => r.header === 'quiz_question')!.text;
  assert.equal(formatQuestions(questions), reference);
  const answers = parseAnswers(fixture('quiz_dir/quiz_ans.txt'));
  assert.equal(scoreAnswers(answers, ['a', 'b', 'c']), 3);
  assert.equal(scoreAnswers(answers, ['b', 'b', 'c']), 2);
  assert.equal(scoreAnswers(answers, ['a']), 1); // short answers score as they stand
  assert.equal(scoreAnswers(answers, []), 0);
  assert.equal(formatLeaderboard([{ user: 'bob', score: 2 }, { user: 'alice', score: 3 }], 3), 'Server: Quiz results:\n1. alice 3/3\n2. bob 2/3\n');
});

test('options on separate lines are joined; a file without questions is refused', () => {
  assert.deepEqual(parseQuestions('Q1?\na. x\nb. y\n\nQ2?\na. z\n'), [
    { question: 'Q1?', options: 'a. x b. y' },
    { question: 'Q2?', options: 'a. z' },
  ]);
  assert.throws(() => parseQuestions('\n\n'), RangeError);
});
