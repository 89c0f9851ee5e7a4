import { createWriteStream, type WriteStream } from 'node:fs';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { CSV_COLUMNS, toCsvRow, toOcsf } from '../../audit/index.js';
import type { AuditQuery } from '../../audit/index.js';
import { AUDIT_CATEGORIES, AUDIT_OUTCOMES, EFFECTS } from '../../domain/index.js';
import type { ChainEntry } from '../../audit/index.js';
import { allEvents, remoteEvents } from '../event-pages.js';
import { sortedKeys } from '../json-output.js';
import { CliError, EXIT, terminalOf, type CliIo } from '../io.js';
import { directOnly, remoteOrDirect } from '../remote-or-direct.js';
import { withStoreOptions, type StoreFlags } from '../with-core.js';

/** The filters `export` and `tail` share with `GET /api/v1/audit/events`. */
export interface FilterFlags {
  from?: string;
  to?: string;
  agent?: string;
  principal?: string;
  tool?: string;
  effect?: string;
  scope?: string;
  category?: string;
  type?: string;
  outcome?: string;
  tenant?: string;
  text?: string;
}

/** Adds the audit filters to a command. */
export function withFilters(cmd: Command): Command {
  return cmd
    .option('--from <time>', 'RFC 3339, inclusive')
    .option('--to <time>', 'RFC 3339, exclusive')
    .option('--agent <id>')
    .option('--principal <id>')
    .option('--tool <name>')
    .option('--effect <effect>', EFFECTS.join('|'))
    .option('--scope <path>', 'this scope and below')
    .option('--category <category>', AUDIT_CATEGORIES.join('|'))
    .option('--type <type>', 'e.g. tool.call.decided')
    .option('--outcome <outcome>', AUDIT_OUTCOMES.join('|'))
    .option('--tenant <id>')
    .option('--text <words>', 'free text anywhere in the event');
}

/** Checks filter flags and turns them into a query. */
export function toQuery(f: FilterFlags): Omit<AuditQuery, 'limit' | 'cursor'> {
  const oneOf = <T extends string>(name: string, v: string | undefined, allowed: readonly T[]): T | undefined => {
    if (v === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(v)) throw new CliError(`\`--${name} ${v}\` must be one of ${allowed.join(', ')}`);
    return v as T;
  };
  const q: Omit<AuditQuery, 'limit' | 'cursor'> = {};
  if (f.from) q.from = f.from;
  if (f.to) q.to = f.to;
  if (f.agent) q.agent = f.agent;
  if (f.principal) q.principal = f.principal;
  if (f.tool) q.tool = f.tool;
  if (f.scope) q.scope = f.scope;
  if (f.type) q.type = f.type;
  if (f.tenant) q.tenant = f.tenant;
  if (f.text) q.text = f.text;
  const effect = oneOf('effect', f.effect, EFFECTS);
  if (effect) q.effect = effect;
  const category = oneOf('category', f.category, AUDIT_CATEGORIES);
  if (category) q.category = category;
  const outcome = oneOf('outcome', f.outcome, AUDIT_OUTCOMES);
  if (outcome) q.outcome = outcome;
  return q;
}

/** Writes to a file or stdout, waiting for the stream to drain so memory stays flat. */
function sink(io: CliIo, file: string | undefined): { write(s: string): Promise<void>; close(): Promise<void> } {
  if (!file) return { write: async (s) => io.stdout(s), close: async () => {} };
  const out: WriteStream = createWriteStream(file);
  return {
    write: (s) => (out.write(s) ? Promise.resolve() : new Promise((r) => out.once('drain', () => r()))),
    close: () => new Promise((r, j) => out.end((e?: Error | null) => (e ? j(e) : r()))),
  };
}

/**
 * `warden audit export`: stream events as JSON lines, CSV or OCSF, with a progress bar on stderr when
 * it is a terminal. Through WARDEN_URL it pages through `GET /api/v1/audit/events` (the token's
 * tenant and readable scopes); on the database it streams every tenant, or `--tenant`'s. Either
 * way each event's keys are printed in sorted (RFC 8785) order, so the same export is the same text.
 */
export function registerAuditExport(audit: Command, io: CliIo, done: (code: number) => void): void {
  withFilters(withStoreOptions(audit.command('export').description('export audit events (streaming, constant memory)')))
    .option('--format <format>', 'jsonl, csv or ocsf (OCSF 1.3 JSON lines)', 'jsonl')
    .option('--output <file>', 'write here instead of stdout')
    .option('--order <order>', '`time` (newest first) or `chain` (per tenant, by sequence: what `audit verify --events` reads)', 'time')
    .option('--no-progress', 'no progress bar')
    .action(async (opts: StoreFlags & FilterFlags & { format: string; output?: string; order: string; progress: boolean }) => {
      if (!['jsonl', 'csv', 'ocsf'].includes(opts.format)) throw new CliError(`unknown format \`${opts.format}\`; use jsonl, csv or ocsf`);
      if (!['time', 'chain'].includes(opts.order)) throw new CliError(`unknown order \`${opts.order}\`; use time or chain`);
      const query = toQuery(opts);
      if (opts.order === 'chain' && Object.keys(query).some((k) => k !== 'tenant')) throw new CliError('`--order chain` exports whole chains; use only `--tenant` with it');
      if (opts.order === 'chain' && opts.format !== 'jsonl') throw new CliError('`--order chain` writes JSON lines (with stubs of removed events), for `warden audit verify --events`');
      if (opts.order === 'chain') directOnly(io, '`--order chain`', 'it exports whole chains with the stubs of removed events, which the API does not serve');
      const line = (e: ChainEntry): string => {
        if ('stub' in e) return JSON.stringify(e);
        const sorted = sortedKeys(e);
        return opts.format === 'csv' ? toCsvRow(sorted) : opts.format === 'ocsf' ? JSON.stringify(toOcsf(sorted)) : JSON.stringify(sorted);
      };
      const write = async (sources: AsyncIterable<ChainEntry>[], count: (() => Promise<number>) | undefined): Promise<number> => {
        const out = sink(io, opts.output);
        // The bar redraws itself with escape sequences: only on a terminal, and never over the export on stdout.
        const showBar = opts.progress && opts.output !== undefined && io.stderrIsTTY === true && count !== undefined;
        const total = showBar ? await count() : 0;
        const bar = showBar ? new cliProgress.SingleBar({ stream: terminalOf(io), format: 'exporting [{bar}] {percentage}% | {value}/{total} events | {eta_formatted} left', hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
        bar?.start(total, 0);
        let n = 0;
        try {
          if (opts.format === 'csv') await out.write(`${CSV_COLUMNS.join(',')}\n`);
          let chunk = '';
          for (const src of sources) {
            for await (const e of src) {
              chunk += `${line(e)}\n`;
              n++;
              if (n % 500 === 0) {
                await out.write(chunk);
                chunk = '';
                bar?.update(n);
              }
            }
          }
          if (chunk) await out.write(chunk);
        } finally {
          bar?.update(n);
          bar?.stop();
          await out.close();
        }
        return n;
      };
      const n = await remoteOrDirect(
        io,
        opts,
        (r) => write([allEvents(remoteEvents(r), query)], undefined),
        async ({ auditLog: repo }) =>
          write(opts.order === 'chain' ? (opts.tenant ? [opts.tenant] : await repo.tenants()).map((t) => repo.streamChain(t)) : [repo.stream(query)], () => repo.count(query)),
      );
      if (opts.output) io.stderr(`exported ${n} events to ${opts.output}\n`);
      done(EXIT.ok);
    });
}
