/** The demo's options and events (src/lab/demo.ts). Times are seconds since the epoch. */
import type { LatencySummary } from '../common/format.js';

export interface DemoOptions {
  /** use namespaces (default: when root and available) */
  namespaces?: boolean;
  /** ms between broadcasts */
  intervalMs?: number;
  /** the broadcast message */
  message?: string;
  /** the dashboard's port on the host's 127.0.0.1 (default 8050; 0: any free) */
  dashboardPort?: number;
  /** start the dashboard (default true, where it can run) */
  dashboard?: boolean;
  /** the chat server's port (default 10000, or a free one on loopback when 10000 is taken; 0: any free) */
  chatPort?: number;
}

/** A broadcast left the master. `time`: seconds since the epoch, as the master saw it. */
export interface DemoSent {
  seq: number;
  target: string;
  time: number;
}

/** A node got a message. `latencyUs`: one way, master's send to the node's receipt (same clock). */
export interface DemoReceived {
  node: string;
  seq: number;
  text: string;
  latencyUs: number | undefined;
  time: number;
}

/** The master's report on one message, with its round-trip figures (ms). */
export interface DemoReport {
  seq: number;
  delivered: number;
  nodes: string[];
  rtt: LatencySummary | undefined;
  time: number;
}

/** What the demo built and where to look. */
export interface DemoReady {
  mode: 'namespaces' | 'loopback';
  hosts: { name: string; address: string }[];
  /** the broadcast target, ADDRESS:PORT */
  target: string;
  /** the gossip seeds, ADDRESS:PORT */
  seeds: string[];
  /** how many gossip peers, and where */
  peers: { count: number; address: string };
  /** the chat server, ADDRESS:PORT */
  chat: string;
  /** the scripted chat clients' names */
  clients: string[];
  /** the dashboard's URL on this machine, or why there is none */
  dashboard: { url: string | null; reason: string | null };
  tempDir: string;
  namespaces: string[];
  pids: number[];
  /** the watchdog that removes all of the above should the demo die without its teardown (src/lab/reaper.ts) */
  reaper: number | null;
}

export interface DemoProgress {
  step: number;
  steps: number;
  text: string;
  time: number;
}

/** The gossip network: a message reached every peer, or the overlay settled. */
export interface DemoGossip {
  kind: 'settled' | 'spread';
  text: string;
  time: number;
}

/** Something a chat client or the chat server did (joined, file sent, quiz answered, results...). */
export interface DemoChat {
  who: string;
  what: string;
  text: string;
  time: number;
}

/**
 * The demo's events. `sent`, `received` and `report` come in causal order (src/lab/causal-order.ts):
 * a node's `received` never before the master's `sent` of that message, a `report` never before the
 * receipts of the nodes it names.
 */
export interface DemoEvents {
  progress: [DemoProgress];
  ready: [DemoReady];
  sent: [DemoSent];
  received: [DemoReceived];
  report: [DemoReport];
  gossip: [DemoGossip];
  chat: [DemoChat];
  /** a child process died unexpectedly */
  failed: [{ label: string; reason: string }];
}
