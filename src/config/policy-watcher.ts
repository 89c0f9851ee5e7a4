import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { isWardenError, type Clock } from '../domain/index.js';
import { formatDiagnostic, loadPolicySources, type Diagnostic, type PolicyLoadOptions, type PolicySet, type PolicySource } from '../policy/index.js';
import { digestSources, readPolicyFiles, type PolicyFiles } from './policy-files.js';

/** The policy set in force and what happened at the last reload. */
export interface PolicyStatus {
  /** The set's version: a hash over its files' names and texts, so equal versions mean the same files. */
  version: string;
  /** When this set took effect (start, or the reload that swapped it in). */
  loadedAt: string;
  policies: PolicySet['policies'];
  /** Set while the files on disk are broken; the last good set stays in force. */
  lastError: { at: string; messages: string[] } | undefined;
}

/** Hands out the current set and reloads it when files change. */
export interface PolicyWatcher {
  current(): PolicySet;
  /** The sources of the set in force (the last good read): what a tenant's set is compiled from with its managed policies. */
  sources(): readonly PolicySource[];
  /** Called after a reload swapped in a new set. */
  onChange(listener: () => void): void;
  status(): PolicyStatus;
  /** Re-reads the files now; resolves true when a new set took effect. */
  reload(): Promise<boolean>;
  close(): void;
}

/** How the watcher reports what it did. */
export interface WatchLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** How `openPolicies` loads and watches. */
export interface OpenPoliciesOptions {
  /** Reload when the files change (directory events, and the poll below). */
  watch: boolean;
  /** Sources served before the files' (a command's built-in policies, such as `warden mcp`'s); read-only. */
  builtin?: readonly PolicySource[];
  logger: WatchLogger;
  /** Quiet time after a file event before reloading: editors write in bursts. @default 100 */
  debounceMs?: number;
  /**
   * How often the files are re-read and their digest compared, as a backstop for events the OS
   * drops or never sends (network file systems, a directory replaced whole). A read costs the
   * files' bytes; the set is compiled again only when the digest changed. 0 turns it off.
   * @default 2000
   */
  pollMs?: number;
  /** Stamps `loadedAt` and `lastError.at`. @default the system clock */
  clock?: Clock;
  /** What lint and compile are told besides the files (the status check allow-list). @default {} */
  load?: PolicyLoadOptions;
}

/** Thrown by `openPolicies` when the initial set does not compile. */
export class PolicyLoadError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(`policies failed to load:\n${diagnostics.map(formatDiagnostic).join('\n')}`);
    this.name = 'PolicyLoadError';
  }
}

/**
 * Loads the policy set (throwing PolicyLoadError if it is broken) and, when `watch` is on, swaps in
 * a new set whenever the files change; a broken edit keeps the last good set and says why.
 *
 * Changes are seen however they are written (in place, truncated, renamed over by an editor or
 * `git checkout`, deleted, re-created): every directory a policy file lives in is watched (a
 * directory's watch survives its entries being replaced, a file's does not), any event there
 * re-reads the files, and a timer re-reads them too. A read compiles only when the sources' digest
 * changed, so a spurious event or a poll costs a read and a hash.
 */
export async function openPolicies(paths: readonly string[], opts: OpenPoliciesOptions): Promise<PolicyWatcher> {
  const now = () => (opts.clock ? opts.clock.now() : new Date()).toISOString();
  const withBuiltin = (f: PolicyFiles): PolicyFiles => (opts.builtin?.length ? { ...f, sources: [...opts.builtin, ...f.sources] } : f);
  const firstFiles = withBuiltin(await readPolicyFiles(paths));
  const first = loadPolicySources(firstFiles.sources, opts.load);
  if (!first.set) throw new PolicyLoadError(first.diagnostics.filter((d) => d.severity === 'error'));
  let set: PolicySet = first.set;
  let sources: readonly PolicySource[] = firstFiles.sources;
  const listeners: (() => void)[] = [];
  let loadedAt = now();
  let lastError: PolicyStatus['lastError'];
  // The digest of the sources last read, good or broken: the same bytes are not compiled twice.
  let digest: string | undefined = digestSources(firstFiles.sources);
  let closed = false;
  for (const d of first.diagnostics) opts.logger.warn({ diagnostic: formatDiagnostic(d) }, 'policy lint warning');

  const fail = (messages: string[]) => {
    lastError = { at: now(), messages };
    opts.logger.warn({ errors: messages, keptVersion: set.version }, 'policy reload failed; keeping the last good set');
  };

  const readAndSwap = async (): Promise<boolean> => {
    try {
      return await readAndCompile();
    } catch (err) {
      fail([String(err)]);
      return false;
    }
  };
  const readAndCompile = async (): Promise<boolean> => {
    let files: PolicyFiles;
    try {
      files = withBuiltin(await readPolicyFiles(paths));
    } catch (err) {
      // A deleted file path, a directory mid-replacement: keep the set, read again on the next change.
      digest = undefined;
      fail([isWardenError(err) ? err.format() : String(err)]);
      return false;
    }
    if (closed) return false;
    await watchDirs(files.dirs);
    const d = digestSources(files.sources);
    if (d === digest) return false;
    digest = d;
    const r = loadPolicySources(files.sources, opts.load);
    if (!r.set) {
      fail(r.diagnostics.filter((x) => x.severity === 'error').map(formatDiagnostic));
      return false;
    }
    lastError = undefined;
    if (r.set.version === set.version) return false;
    set = r.set;
    sources = files.sources;
    loadedAt = now();
    for (const l of listeners) {
      try {
        l();
      } catch (err) {
        opts.logger.warn({ err: String(err) }, 'a policy change listener failed');
      }
    }
    opts.logger.info({ version: set.version, policies: set.policies.length, rules: set.rules.length }, 'policies reloaded');
    return true;
  };

  // One read at a time, in call order: an event and the poll never interleave two swaps.
  let queue: Promise<unknown> = Promise.resolve();
  const reload = (): Promise<boolean> => {
    const next = queue.then(readAndSwap, readAndSwap);
    queue = next;
    return next;
  };

  // Keyed by path, with the inode watched: a directory replaced whole (same path, new inode) is watched afresh.
  const watchers = new Map<string, { w: FSWatcher; ino: number }>();
  let debounce: NodeJS.Timeout | undefined;
  const schedule = () => {
    if (closed) return;
    clearTimeout(debounce);
    // Editors write in bursts (truncate, write, rename); one read per burst.
    debounce = setTimeout(() => void reload(), opts.debounceMs ?? 100);
  };
  const drop = (dir: string) => {
    watchers.get(dir)?.w.close();
    watchers.delete(dir);
  };
  /** Watches exactly these directories: new ones (a subdirectory created, a directory re-created) are added, gone ones dropped. */
  async function watchDirs(dirs: readonly string[]): Promise<void> {
    if (!opts.watch || closed) return;
    const wanted = new Set(dirs);
    for (const dir of watchers.keys()) if (!wanted.has(dir)) drop(dir);
    for (const dir of wanted) {
      let ino: number;
      try {
        ino = (await stat(dir)).ino;
      } catch {
        drop(dir);
        continue; // gone since the read; the next read (an event or the poll) adds it again
      }
      if (closed) return;
      if (watchers.get(dir)?.ino === ino) continue;
      drop(dir);
      let w: FSWatcher;
      try {
        w = watch(dir, { persistent: false }, schedule);
      } catch {
        continue;
      }
      w.on('error', (err) => {
        // A watched directory was deleted: drop its watch so the next read opens a fresh one.
        opts.logger.warn({ err: String(err), dir }, 'policy watch error');
        if (watchers.get(dir)?.w === w) drop(dir);
        else w.close();
        schedule();
      });
      watchers.set(dir, { w, ino });
    }
  }

  let poll: NodeJS.Timeout | undefined;
  if (opts.watch) {
    await watchDirs(firstFiles.dirs);
    const every = opts.pollMs ?? 2000;
    if (every > 0) {
      poll = setInterval(() => void reload(), every);
      poll.unref();
    }
  }

  return {
    current: () => set,
    sources: () => sources,
    onChange: (l) => void listeners.push(l),
    status: () => ({ version: set.version, loadedAt, policies: set.policies, lastError }),
    reload,
    close() {
      closed = true;
      clearTimeout(debounce);
      clearInterval(poll);
      for (const dir of [...watchers.keys()]) drop(dir);
    },
  };
}
