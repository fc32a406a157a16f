import type { Command } from 'commander';
import { notBuiltGroup } from './shared.js';

export function register(program: Command): void {
  notBuiltGroup(program, 'analyze', 'capture, decode and analyse packets');
}
