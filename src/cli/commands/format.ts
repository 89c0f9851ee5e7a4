import type { Command } from 'commander';
import { CliError } from '../io.js';

/** Output formats the commands take with `--format`. */
export type Format = 'human' | 'json';

/** Validates a `--format` value. */
export function parseFormat(value: string): Format {
  if (value === 'human' || value === 'json') return value;
  throw new CliError(`unknown format \`${value}\`; use \`human\` or \`json\``);
}

/** The one output switch every command takes: `--format human|json`, with `--json` as its alias. */
export function withFormatOption(cmd: Command): Command {
  return cmd.option('--format <format>', 'human or json (default: human)').option('--json', 'the same as --format json');
}

/** The format a command was asked for; `--json` with `--format human` is a usage error. */
export function formatOf(opts: { format?: string | undefined; json?: boolean | undefined }): Format {
  const format = opts.format === undefined ? undefined : parseFormat(opts.format);
  if (opts.json && format === 'human') throw new CliError('`--json` and `--format human` contradict each other; give one');
  return opts.json ? 'json' : (format ?? 'human');
}
