import { parseAllowedHosts, parseCheckAllowHosts } from '../config/config.js';
import { WardenError } from '../domain/index.js';
import type { PolicyLoadOptions } from '../policy/index.js';
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
 * What policy loading is told on the command line: the status check allow-list from
 * WARDEN_CHECK_ALLOW_HOSTS, as `warden serve` reads it, so a policy lints locally as it loads there.
 */
export function policyLoadOptions(io: CliIo): PolicyLoadOptions {
  try {
    return { checkHosts: parseCheckAllowHosts(io.env.WARDEN_CHECK_ALLOW_HOSTS) };
  } catch (err) {
    if (err instanceof WardenError) throw new CliError(`WARDEN_CHECK_ALLOW_HOSTS: ${err.message}${err.help ? ` (${err.help})` : ''}`);
    throw err;
  }
}
