import type { Command } from 'commander';
import { CliError } from '../io.js';

/** Output formats the commands take with `--format`. */
export type Format = 'human' | 'json';

const FORMATS: readonly Format[] = ['human', 'json'];

/** `a or b`, `a, b or c`. */
function either(list: readonly string[]): string {
  return list.length <= 2 ? list.join(' or ') : `${list.slice(0, -1).join(', ')} or ${list.at(-1)!}`;
}

/** Validates a `--format` value against the common formats and a command's `extra` ones. */
export function parseFormat<T extends string = never>(value: string, extra: readonly T[] = []): Format | T {
  const known: readonly string[] = [...FORMATS, ...extra];
  if (known.includes(value)) return value as Format | T;
  throw new CliError(`unknown format \`${value}\`; use ${either(known.map((f) => `\`${f}\``))}`);
}

/**
 * The one output switch every command takes: `--format human|json`, with `--json` as its alias;
 * a command with report formats of its own (`policy lint --format sarif`) names them in `extra`.
 */
export function withFormatOption(cmd: Command, extra: readonly string[] = []): Command {
  return cmd.option('--format <format>', `${either([...FORMATS, ...extra])} (default: human)`).option('--json', 'the same as --format json');
}

/** The format a command was asked for; `--json` with another `--format` is a usage error. */
export function formatOf<T extends string = never>(opts: { format?: string | undefined; json?: boolean | undefined }, extra: readonly T[] = []): Format | T {
  const format = opts.format === undefined ? undefined : parseFormat(opts.format, extra);
  if (opts.json && format !== undefined && format !== 'json') throw new CliError(`\`--json\` and \`--format ${format}\` contradict each other; give one`);
  return opts.json ? 'json' : (format ?? 'human');
}
