import { CliError } from './io.js';

/** The time from `--now` (RFC 3339), or undefined when the flag is absent; a bad time is a usage error. */
export function nowOption(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const now = new Date(value);
  if (Number.isNaN(now.getTime())) throw new CliError(`\`--now ${value}\` is not a valid time`);
  return now;
}
