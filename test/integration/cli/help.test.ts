/**
 * Every command's --help, walked over the whole commander tree (chat, dashboard and analyze
 * included): an Examples section, required options marked, defaults shown.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Command } from 'commander';
import { buildProgram } from '../../../src/cli/program.js';
import { runWirelab } from '../../helpers/process.js';

function walk(command: Command, path: string[] = []): [string, Command][] {
  const here: [string, Command][] = [[['wirelab', ...path].join(' '), command]];
  return here.concat(command.commands.flatMap((sub) => walk(sub, [...path, sub.name()])));
}

function helpOf(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  command.outputHelp();
  return text;
}

test('every command and subcommand has an Examples section with at least one wirelab command line', async () => {
  const program = await buildProgram(['node', 'wirelab']);
  const missing: string[] = [];
  for (const [name, command] of walk(program)) {
    const help = helpOf(command);
    const examples = /\nExamples:\n {2}wirelab \S.*\n {6}\S/.exec(help);
    if (!examples) missing.push(name);
  }
  assert.deepEqual(missing, [], `commands without examples: ${missing.join(', ')}`);
});

test('required options are marked (required) and defaults are shown', async () => {
  const program = await buildProgram(['node', 'wirelab']);
  const problems: string[] = [];
  for (const [name, command] of walk(program)) {
    const help = helpOf(command);
    for (const option of command.options) {
      const line = help.split('\n').find((l) => l.trimStart().startsWith(option.flags));
      if (option.hidden || line === undefined) continue;
      // a description may wrap: take the option's paragraph
      const start = help.indexOf(line);
      const paragraph = help.slice(start, help.indexOf('\n  -', start + 1) === -1 ? undefined : help.indexOf('\n  -', start + 1));
      if (option.mandatory && !paragraph.includes('(required)')) problems.push(`${name} ${option.flags}: not marked required`);
      if (option.defaultValue !== undefined && option.defaultValue !== false && !/default:/.test(paragraph)) problems.push(`${name} ${option.flags}: default not shown`);
    }
  }
  assert.deepEqual(problems, []);
});

test('the real command prints examples and defaults in the duration syntax', async () => {
  const master = await runWirelab(['broadcast', 'master', '--help']);
  assert.equal(master.code, 0);
  assert.match(master.stdout, /--interval <duration>\s+time between messages \(default: 1s\)/);
  assert.match(master.stdout, /--ack-wait <duration>[^-]*\(default: 1s\)/);
  assert.match(master.stdout, /\nExamples:\n {2}wirelab broadcast master/);
  const keygen = await runWirelab(['broadcast', 'keygen', '--help']);
  assert.match(keygen.stdout, /--out <dir>\s+directory to write the keys to \(required\)/);
});
