import type { DetectorPort } from '../checkpoint/index.js';
import { createDetectorSet, type DetectorSet, type DetectorSetOptions } from '../detect/index.js';

/** The one place a detector set is built (the core, `warden scan`, offline decisions). */
export function createDetectors(opts: DetectorSetOptions = {}): DetectorSet {
  return createDetectorSet(opts);
}

/**
 * A detector set built on first use (about a second: patterns compiled, model loaded) and its
 * checkpoint port, so a process that never scans never pays for it.
 */
export function lazyDetectors(opts: DetectorSetOptions = {}): { get(): DetectorSet; port: DetectorPort } {
  let built: DetectorSet | undefined;
  const get = () => (built ??= createDetectors(opts));
  return {
    get,
    port: {
      // The async scans yield to the event loop between detector calls, so a 1 MB input does not block it.
      scan: (action) => get().scan(action),
      scanValue: (value, source, root) => get().scanValueAsync(value, source, root),
    },
  };
}
