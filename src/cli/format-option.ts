import { parseFormat, type Format } from './commands/format.js';
import { CliError } from './io.js';

/** The output format from `--format human|json`, with `--json` as an alias of `--format json`. */
export function formatOption(opts: { format?: string; json?: boolean }): Format {
  const format = opts.format === undefined ? undefined : parseFormat(opts.format);
  if (opts.json && format === 'human') throw new CliError('`--json` and `--format human` contradict each other; give one');
  return opts.json ? 'json' : (format ?? 'human');
}
