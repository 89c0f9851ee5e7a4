import { parseAllowedHosts } from '../config/index.js';
import { createDetectorSet, type DetectorSet } from '../detect/index.js';
import { WardenError, type Action, type Finding } from '../domain/index.js';
import { mandatedFindings, resolveScan, type PolicySet } from '../policy/index.js';
import { CliError, type CliIo } from './io.js';

/** The exfiltration allow-list from `--allow-host` or WARDEN_ALLOW_HOSTS; a bad host is a usage error. */
export function allowedHostsOption(flag: readonly string[] | undefined, io: CliIo): string[] {
  try {
    return parseAllowedHosts(flag ?? io.env.WARDEN_ALLOW_HOSTS);
  } catch (err) {
    if (err instanceof WardenError) throw new CliError(`--allow-host: ${err.message}${err.help ? ` (${err.help})` : ''}`);
    throw err;
  }
}

/**
 * The findings the server's checkpoint would see for an action: the detectors its scope's scan
 * sections mandate, at their thresholds, with the server's exfiltration allow-list. The detector set is
 * built only when some policy scans.
 */
export function offlineFindings(set: PolicySet, allowedHosts: readonly string[] = []): ((action: Action) => Finding[]) | undefined {
  if (set.scans.length === 0) return undefined;
  let detectors: DetectorSet | undefined;
  return (action) => {
    const mandate = resolveScan(set.scans, action.scope);
    if (!mandate?.input) return [];
    detectors ??= createDetectorSet({ allowedHosts });
    return mandatedFindings(mandate, detectors.scanAction(action));
  };
}
