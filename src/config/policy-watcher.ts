import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isWardenError } from '../domain/index.js';
import { formatDiagnostic, loadPolicySources, type Diagnostic, type PolicySet } from '../policy/index.js';
import { readPolicyFiles } from './policy-files.js';

/** The policy set in force and what happened at the last reload. */
export interface PolicyStatus {
  version: string;
  loadedAt: string;
  policies: PolicySet['policies'];
  /** Set while the files on disk are broken; the last good set stays in force. */
  lastError: { at: string; messages: string[] } | undefined;
}

/** Hands out the current set and reloads it when files change. */
export interface PolicyWatcher {
  current(): PolicySet;
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

/** Thrown by `openPolicies` when the initial set does not compile. */
export class PolicyLoadError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(`policies failed to load:\n${diagnostics.map(formatDiagnostic).join('\n')}`);
    this.name = 'PolicyLoadError';
  }
}

async function compileFrom(paths: readonly string[]): Promise<{ set?: PolicySet; diagnostics: Diagnostic[] }> {
  const files = await readPolicyFiles(paths);
  return loadPolicySources(files.sources);
}

/**
 * Loads the policy set (throwing PolicyLoadError if it is broken) and, when `watch` is on, swaps in
 * a new set whenever the files change; a broken edit keeps the last good set and says why.
 */
export async function openPolicies(paths: readonly string[], opts: { watch: boolean; logger: WatchLogger; debounceMs?: number }): Promise<PolicyWatcher> {
  const first = await compileFrom(paths);
  if (!first.set) throw new PolicyLoadError(first.diagnostics.filter((d) => d.severity === 'error'));
  let set: PolicySet = first.set;
  let loadedAt = new Date().toISOString();
  let lastError: PolicyStatus['lastError'];
  for (const d of first.diagnostics) opts.logger.warn({ diagnostic: formatDiagnostic(d) }, 'policy lint warning');

  const reload = async (): Promise<boolean> => {
    try {
      const r = await compileFrom(paths);
      if (!r.set) {
        const messages = r.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
        lastError = { at: new Date().toISOString(), messages };
        opts.logger.warn({ errors: messages, keptVersion: set.version }, 'policy reload failed; keeping the last good set');
        return false;
      }
      lastError = undefined;
      if (r.set.version === set.version) return false;
      set = r.set;
      loadedAt = new Date().toISOString();
      opts.logger.info({ version: set.version, policies: set.policies.length, rules: set.rules.length }, 'policies reloaded');
      return true;
    } catch (err) {
      const message = isWardenError(err) ? err.format() : String(err);
      lastError = { at: new Date().toISOString(), messages: [message] };
      opts.logger.warn({ errors: [message], keptVersion: set.version }, 'policy reload failed; keeping the last good set');
      return false;
    }
  };

  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  if (opts.watch) {
    const schedule = () => {
      clearTimeout(timer);
      // Editors write in bursts (truncate, write, rename); one reload per burst.
      timer = setTimeout(() => void reload(), opts.debounceMs ?? 100);
    };
    for (const p of paths) {
      const abs = resolve(p);
      const isDir = (await stat(abs)).isDirectory();
      // Watch the directory even for a single file, so atomic-rename saves are seen.
      const w = watch(isDir ? abs : dirname(abs), { recursive: isDir }, (_event, name) => {
        if (isDir || (name && resolve(dirname(abs), name.toString()) === abs)) schedule();
      });
      w.on('error', (err) => opts.logger.warn({ err: String(err), path: p }, 'policy watch error'));
      watchers.push(w);
    }
  }

  return {
    current: () => set,
    status: () => ({ version: set.version, loadedAt, policies: set.policies, lastError }),
    reload,
    close() {
      clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
