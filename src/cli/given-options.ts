import type { Command } from 'commander';

/**
 * The options typed on the command line, without commander's defaults (a `--no-x` option defaults
 * to true): what is not given here falls through to the environment, then the configuration file.
 */
export function givenOptions(cmd: Command): Record<string, unknown> {
  const opts = cmd.opts<Record<string, unknown>>();
  return Object.fromEntries(Object.entries(opts).filter(([name]) => cmd.getOptionValueSource(name) === 'cli'));
}
