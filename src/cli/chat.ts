import type { Command } from 'commander';
import { notBuiltGroup } from './shared.js';

export function register(program: Command): void {
  notBuiltGroup(program, 'chat', 'a TCP chat server and client with file transfer and quizzes');
}
