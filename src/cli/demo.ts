import type { Command } from 'commander';
import { notBuiltGroup } from './shared.js';

export function register(program: Command): void {
  notBuiltGroup(program, 'demo', 'a whole small network on this machine, shown live');
}
