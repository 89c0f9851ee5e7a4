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
  return cmd.option('--format <format>', 'human or json', 'human').option('--json', 'the same as --format json');
}

/** The format a command was asked for; `--json` wins over `--format`. */
export function formatOf(opts: { format?: string | undefined; json?: boolean | undefined }): Format {
  return opts.json ? 'json' : parseFormat(opts.format ?? 'human');
}
