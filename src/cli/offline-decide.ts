import type { Action, Decision } from '../domain/index.js';
import { createOfflineDecider } from '../main/offline.js';
import type { PolicySet } from '../policy/index.js';
import { CliError, EXIT } from './io.js';

/**
 * Decides actions the way `POST /api/v1/decide` does, offline: the checkpoint's own stages over
 * `set`, with the server's exfiltration allow-list. The detector set (about a second to build) is
 * built only when some policy scans, and then only for the first action whose scope's scan section
 * runs. A failure of the machinery (not of the input) is a runtime error, exit 3.
 */
export function offlineDecide(set: PolicySet, opts: { allowedHosts: readonly string[]; now?: Date }): (action: Action) => Promise<Decision> {
  const checkpoint = createOfflineDecider(set, opts);
  return async (action) => {
    try {
      return (await checkpoint.check(action)).decision;
    } catch (err) {
      if (err instanceof CliError) throw err;
      throw new CliError(`the checkpoint failed: ${err instanceof Error ? err.message : String(err)}`, EXIT.runtime);
    }
  };
}
