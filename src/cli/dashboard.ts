import type { Command } from 'commander';
import { notBuiltGroup } from './shared.js';

export function register(program: Command): void {
  notBuiltGroup(program, 'dashboard', 'a live web dashboard of the traffic');
}
