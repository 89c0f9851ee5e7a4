import { createOfflineCheckpoint, type Checkpoint } from '../checkpoint/index.js';
import type { PolicySet } from '../policy/index.js';
import { lazyDetectors } from './detectors.js';

/**
 * The offline mode of the checkpoint (`warden policy eval` and `policy test`): the same stages as the
 * server, with no audit sink and the facts the action carries. Detectors are built only when some
 * policy scans, and then on the first action whose scope runs a scan.
 */
export function createOfflineDecider(set: PolicySet, opts: { allowedHosts: readonly string[]; now?: Date }): Checkpoint {
  const detectors = set.scans.length > 0 ? lazyDetectors({ allowedHosts: [...opts.allowedHosts] }).port : undefined;
  return createOfflineCheckpoint({ policies: set, ...(detectors ? { detectors } : {}), ...(opts.now ? { now: opts.now } : {}) });
}
