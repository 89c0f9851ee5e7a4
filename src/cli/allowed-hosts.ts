import { parseAllowedHosts } from '../config/config.js';
import { WardenError } from '../domain/index.js';
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
