/**
 * The demo's watchdog. Node has no parent-death signal, and the demo's children are detached (a
 * terminal's Ctrl-C must reach the demo alone), so a demo killed with SIGKILL, or by the OOM killer,
 * would leave its processes, network namespaces and temporary directory behind. The demo therefore
 * starts this script first (`reaper.ts`, detached too) and tells it, through a pipe to its stdin,
 * each thing it makes before or as it makes it: NDJSON lines `{"pid":N,"start":T}` (a process group
 * leader and its start time, so that a reused pid is never killed), `{"netns":NAME}`, `{"dir":PATH}`.
 * An orderly demo ends with `{"bye":true}` after its own teardown. When the pipe closes without it,
 * the kernel has closed it for a dead demo: the reaper kills every process group it was told of,
 * waits until they are gone, deletes the namespaces and the directory, says so on stderr (the demo's
 * own, inherited), and exits. `ReaperLink` is the demo's side.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { WirelabError } from '../common/errors.js';
import { scriptEntry } from './scripts.js';

/** ms the reaper waits for killed processes to vanish before it removes their namespaces anyway */
const VANISH_MS = 10_000;
/** ms between two looks at /proc while waiting (processes not our own: no event to await) */
const VANISH_POLL_MS = 20;
/** ms an orderly close waits for the reaper to exit before killing it */
const CLOSE_MS = 5_000;
/** the only namespaces and directories the reaper removes, whatever it is told */
const NETNS_PREFIX = 'wl-';
const DIR_PREFIX = 'wirelab-demo-';

interface ProcessState {
  state: string;
  pgrp: number;
  /** clock ticks after boot: with the pid, names one process for good */
  start: string;
}

/** /proc/PID/stat's fields that matter here (proc(5): state 3, pgrp 5, starttime 22), or undefined. */
function processState(pid: number): ProcessState | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // the command name (field 2) may hold spaces and parentheses: the fields after it follow the last ')'
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', pgrp: Number(fields[2]), start: fields[19] ?? '' };
}

/** A child's start time, to tell it from a later process with the same pid; undefined if it is gone. */
export function startTime(pid: number): string | undefined {
  return processState(pid)?.start;
}

/** The demo's side: start the reaper, tell it what is made, say goodbye at the end. */
export class ReaperLink {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  /** the reaper's pid, once started */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Start the reaper; `onExit` hears of it ending before `close()` (the demo then has no safety net). */
  async start(onExit: (code: number | null) => void): Promise<void> {
    // stderr inherited: its report reaches the demo's user, and whoever reads the demo's stderr sees
    // it end only once the reaper has finished too
    const child = spawn(process.execPath, scriptEntry('reaper'), { stdio: ['pipe', 'ignore', 'inherit'], detached: true });
    this.child = child;
    child.stdin.on('error', () => undefined);
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) => reject(new WirelabError('E_LAB', `cannot start the demo's reaper: ${err.message}`, { cause: err })));
    });
    child.once('exit', (code) => {
      if (this.child === child) onExit(code);
    });
  }

  private tell(record: Record<string, unknown>): void {
    this.child?.stdin?.write(`${JSON.stringify(record)}\n`);
  }

  /** A process group leader (a detached child) to kill should the demo die. */
  process(pid: number | undefined): void {
    if (pid === undefined) return;
    const start = startTime(pid);
    // gone already (or no /proc): nothing to reap, and no pid to mistake for a later process
    if (start !== undefined) this.tell({ pid, start });
  }

  /** A namespace about to be made. */
  namespace(name: string): void {
    this.tell({ netns: name });
  }

  directory(path: string): void {
    this.tell({ dir: path });
  }

  /** The demo has torn everything down itself: goodbye, and wait for the reaper's exit. Idempotent. */
  async close(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.tell({ bye: true });
    this.child = undefined;
    child.stdin?.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), CLOSE_MS);
    await this.exited;
    clearTimeout(timer);
  }
}

interface Told {
  processes: { pid: number; start: string }[];
  namespaces: string[];
  dirs: string[];
  bye: boolean;
}

/** One line from the demo, taken only if it is one of the known records with sane values. */
function take(told: Told, line: string): void {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return;
  }
  if (typeof record !== 'object' || record === null) return;
  const r = record as Record<string, unknown>;
  if (Number.isInteger(r.pid) && (r.pid as number) > 1 && typeof r.start === 'string') told.processes.push({ pid: r.pid as number, start: r.start });
  if (typeof r.netns === 'string' && r.netns.startsWith(NETNS_PREFIX) && !r.netns.includes('/')) told.namespaces.push(r.netns);
  if (typeof r.dir === 'string' && basename(r.dir).startsWith(DIR_PREFIX)) told.dirs.push(r.dir);
  if (r.bye === true) told.bye = true;
}

/** Processes alive (zombies have exited) whose pid or process group is one of `groups`. */
function members(groups: Set<number>): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const state = processState(Number(name));
    if (state && state.state !== 'Z' && (groups.has(Number(name)) || groups.has(state.pgrp))) found.push(Number(name));
  }
  return found;
}

/** Kill what the dead demo left, wait (bounded) until it is gone, then remove its namespaces and directory. */
async function reap(told: Told): Promise<string[]> {
  const groups = new Set<number>();
  for (const { pid, start } of told.processes) {
    const now = startTime(pid);
    // a live process with this pid but another start time is not the demo's child: its pid was reused
    if (now !== undefined && now !== start) continue;
    groups.add(pid);
  }
  const killed = members(groups);
  for (const pid of groups) {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
  const deadline = Date.now() + VANISH_MS;
  while (members(groups).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, VANISH_POLL_MS));
  const removed: string[] = [];
  if (killed.length > 0) removed.push(`${killed.length} processes`);
  let namespaces = 0;
  for (const name of [...told.namespaces].reverse()) {
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
      namespaces++;
    } catch {
      // never made, or removed already
    }
  }
  if (namespaces > 0) removed.push(`${namespaces} network namespaces`);
  for (const dir of told.dirs) {
    try {
      readdirSync(dir);
    } catch {
      continue; // removed already
    }
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

/** The script: read what the demo tells until its pipe closes; reap unless it said goodbye. */
function main(): void {
  const told: Told = { processes: [], namespaces: [], dirs: [], bye: false };
  // the demo's terminal may be gone by now: a failed report must not stop the teardown
  const report = (text: string): void => {
    try {
      writeSync(2, `${text}\n`);
    } catch {
      // nobody to tell
    }
  };
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => take(told, line));
  lines.on('close', () => {
    if (told.bye) process.exit(0);
    reap(told).then(
      (removed) => {
        if (removed.length > 0) report(`wirelab demo: the demo ended without its teardown; removed ${removed.join(', ')}`);
        process.exit(0);
      },
      (err: unknown) => {
        report(`wirelab demo: the reaper failed: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      },
    );
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
