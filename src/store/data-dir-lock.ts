import { readFileSync, unlinkSync } from 'node:fs';
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { WardenError } from '../domain/errors.js';

/** Who holds a data directory, as written in its lock file. */
export interface LockHolder {
  pid: number;
  /** The holder's command line (`process.argv` joined), trimmed to {@link COMMAND_MAX} characters. */
  command: string;
  hostname: string;
  /** When the holder process started (ISO 8601). */
  startedAt: string;
  /**
   * The holder's start time in clock ticks since boot (`/proc/<pid>/stat`, Linux only), which tells a
   * live holder from an unrelated process that was given the dead holder's pid.
   */
  procStart?: string;
}

/** A held lock on one data directory. */
export interface DataDirLock {
  /** The lock file. */
  readonly path: string;
  /** Removes the lock file if it is still ours; safe to call twice. */
  release(): Promise<void>;
}

/** How much of the holder's command line the lock file keeps. */
export const COMMAND_MAX = 200;

// A lock file is written right after it is created; one with no readable holder that is older than
// this was left by a process that died in between, younger ones belong to a process still starting.
const UNWRITTEN_GRACE_MS = 10_000;
// Taking over a stale lock is a read, an unlink and a create; a takeover guard older than this was
// abandoned by a process that died inside that section.
const GUARD_STALE_MS = 10_000;
const ATTEMPTS = 5;
const RETRY_MS = 25;

/** The lock file of a data directory: beside it, so PGlite's directory holds only PostgreSQL's files. */
export function lockPathOf(dataDir: string): string {
  return `${dataDir}.lock`;
}

/**
 * Takes the exclusive lock on an embedded database's data directory, so one process at a time
 * opens it. The lock file is created with O_EXCL and holds the holder's pid, command line, host and
 * start time. A stale lock is taken over: its holder is gone from this host (kill -9), or its pid
 * now belongs to another process (a restarted container, a reused pid). Of several processes taking
 * over one stale lock, one wins.
 *
 * INVARIANT: a lock written by this very process refuses too, so one process cannot open a directory twice.
 * @throws WardenError `store.locked` when a live process (this one included) or another host holds it.
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const path = lockPathOf(dataDir);
  const procStart = procStartOf(process.pid);
  const me: LockHolder = {
    pid: process.pid,
    command: describeCommand(process.argv),
    hostname: hostname(),
    startedAt: PROCESS_STARTED_AT,
    ...(procStart !== undefined ? { procStart } : {}),
  };
  const content = `${JSON.stringify(me)}\n`;
  let last: Observed | undefined;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (await createExclusive(path, content)) return held(path, content);
    last = await observe(path);
    if (last === undefined) continue; // released between our create and our read
    if (isHeld(last)) throw lockedError(dataDir, path, last.holder);
    const won = await takeOver(path, last.raw, content);
    if (won === 'won') return held(path, content);
    if (won === 'busy') await delay(RETRY_MS);
  }
  throw lockedError(dataDir, path, last?.holder);
}

interface Observed {
  raw: string;
  holder: LockHolder | undefined;
  ageMs: number;
}

/** True when the lock must be respected: a live holder here, a holder on another host, or one still writing. */
function isHeld(seen: Observed): boolean {
  const h = seen.holder;
  if (h === undefined) return seen.ageMs < UNWRITTEN_GRACE_MS;
  if (h.hostname !== hostname()) return true; // we cannot tell whether a process on another host lives
  // A restarted container runs its server under the same pid as the one that died: that lock is stale.
  if (h.pid === process.pid) return h.startedAt === PROCESS_STARTED_AT;
  if (!isAlive(h.pid)) return false;
  // The pid lives, but it may have been reused by another process since the holder died.
  const now = procStartOf(h.pid);
  return h.procStart === undefined || now === undefined || now === h.procStart;
}

// When this process started; computed once so that every lock it writes names the same instant.
const PROCESS_STARTED_AT = new Date(Date.now() - Math.round(process.uptime() * 1000)).toISOString();

/** The start time of `pid` in clock ticks since boot, from `/proc/<pid>/stat`; undefined off Linux. */
function procStartOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields follow the command name, which is in parentheses and may itself hold spaces or parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19]; // field 22 (starttime); `fields` starts at field 3
  } catch {
    return undefined;
  }
}

/** `kill(pid, 0)` probes without signalling: ESRCH means gone, EPERM means alive under another user. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes a stale lock and creates ours, under a guard file so that two processes that both saw the
 * same stale lock cannot both remove it: without the guard the slower one would delete the lock the
 * faster one had just created.
 */
async function takeOver(path: string, staleRaw: string, content: string): Promise<'won' | 'lost' | 'busy'> {
  const guard = `${path}.takeover`;
  if (!(await createExclusive(guard, content))) {
    const age = await ageOf(guard);
    if (age !== undefined && age > GUARD_STALE_MS) await unlink(guard).catch(() => {});
    return 'busy';
  }
  try {
    const now = await readFile(path, 'utf8').catch(() => undefined);
    // Someone else replaced it (or released it) since we looked: start over.
    if (now !== staleRaw) return 'lost';
    await unlink(path).catch(ignoreMissing);
    return (await createExclusive(path, content)) ? 'won' : 'lost';
  } finally {
    await unlink(guard).catch(() => {});
  }
}

/** Creates `path` with O_EXCL and writes `content`; false when it exists. */
async function createExclusive(path: string, content: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new WardenError('store.unavailable', `cannot create the lock file \`${path}\`: ${(err as Error).message}`, {
      help: 'check that the folder holding the data directory is writable',
      cause: err,
    });
  }
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } catch (err) {
    // An empty lock file would hold the directory until it is old enough to be judged abandoned.
    await handle.close().catch(() => {});
    await unlink(path).catch(() => {});
    throw err;
  }
  await handle.close();
  return true;
}

async function observe(path: string): Promise<Observed | undefined> {
  let raw: string;
  let ageMs: number;
  try {
    raw = await readFile(path, 'utf8');
    ageMs = Date.now() - (await stat(path)).mtimeMs;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return { raw, holder: parseHolder(raw), ageMs };
}

function parseHolder(raw: string): LockHolder | undefined {
  try {
    const v = JSON.parse(raw) as Partial<LockHolder>;
    if (typeof v.pid !== 'number' || !Number.isInteger(v.pid) || v.pid <= 0) return undefined;
    return {
      pid: v.pid,
      command: String(v.command ?? ''),
      hostname: String(v.hostname ?? ''),
      startedAt: String(v.startedAt ?? ''),
      ...(typeof v.procStart === 'string' ? { procStart: v.procStart } : {}),
    };
  } catch {
    return undefined;
  }
}

async function ageOf(path: string): Promise<number | undefined> {
  try {
    return Date.now() - (await stat(path)).mtimeMs;
  } catch {
    return undefined;
  }
}

function held(path: string, content: string): DataDirLock {
  let released = false;
  // A process that exits without closing the database no longer holds it either.
  const onExit = () => {
    try {
      if (readFileSync(path, 'utf8') === content) unlinkSync(path);
    } catch {
      // already gone
    }
  };
  process.once('exit', onExit);
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      process.removeListener('exit', onExit);
      const now = await readFile(path, 'utf8').catch(() => undefined);
      // Only remove the file if it is still ours (a user may have deleted and another process retaken it).
      if (now === content) await unlink(path).catch(ignoreMissing);
    },
  };
}

function lockedError(dataDir: string, path: string, holder: LockHolder | undefined): WardenError {
  const share = 'use PostgreSQL via `--database-url` (`WARDEN_DATABASE_URL`) so several processes can share one database';
  if (holder?.pid === process.pid && holder.hostname === hostname() && holder.startedAt === PROCESS_STARTED_AT) {
    return new WardenError('store.locked', `the embedded database in \`${dataDir}\` is already open in this process (pid ${holder.pid}, \`${holder.command}\`)`, {
      help: `close the open database first and reuse one handle, or ${share}`,
    });
  }
  const who = holder ? `process ${holder.pid} (\`${holder.command}\`)${holder.hostname === hostname() ? '' : ` on host \`${holder.hostname}\``}` : 'another process that is starting';
  return new WardenError('store.locked', `the embedded database in \`${dataDir}\` is in use by ${who}`, {
    help: `stop that process and retry, or ${share}; if no such process runs, delete \`${path}\``,
  });
}

/** `process.argv` as one line, without line breaks, at most {@link COMMAND_MAX} characters. */
export function describeCommand(argv: readonly string[]): string {
  const line = argv.join(' ').replace(/\s+/g, ' ').trim();
  return line.length > COMMAND_MAX ? `${line.slice(0, COMMAND_MAX - 1)}…` : line;
}

function ignoreMissing(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
