import type { Command } from 'commander';
import { notBuiltGroup } from './shared.js';

export function register(program: Command): void {
  notBuiltGroup(program, 'firewall', 'UFW and nftables rules for the ports wirelab uses');
}
