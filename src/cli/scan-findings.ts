import { createDetectorSet, type DetectorSet } from '../detect/index.js';
import type { Action, Finding } from '../domain/index.js';
import { mandatedFindings, resolveScan, type PolicySet } from '../policy/index.js';

/**
 * The findings the server's checkpoint would see for an action: the detectors its scope's scan
 * sections mandate, at their thresholds. The detector set is built only when some policy scans.
 */
export function offlineFindings(set: PolicySet): ((action: Action) => Finding[]) | undefined {
  if (set.scans.length === 0) return undefined;
  let detectors: DetectorSet | undefined;
  return (action) => {
    const mandate = resolveScan(set.scans, action.scope);
    if (!mandate?.input) return [];
    detectors ??= createDetectorSet();
    return mandatedFindings(mandate, detectors.scanAction(action));
  };
}
