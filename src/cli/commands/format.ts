import { CliError } from '../io.js';

/** Output formats the commands take with `--format`. */
export type Format = 'human' | 'json';

/** Validates a `--format` value. */
export function parseFormat(value: string): Format {
  if (value === 'human' || value === 'json') return value;
  throw new CliError(`unknown format \`${value}\`; use \`human\` or \`json\``);
}
