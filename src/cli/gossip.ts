import type { Command } from 'commander';
import { notBuiltGroup } from './shared.js';

export function register(program: Command): void {
  notBuiltGroup(program, 'gossip', 'a peer-to-peer gossip network: seeds, peers, swarm, degrees');
}
