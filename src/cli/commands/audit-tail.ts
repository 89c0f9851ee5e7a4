import type { Command } from 'commander';
import type { AuditEvent } from '../../domain/index.js';
import { remoteEvents, type ListEvents } from '../event-pages.js';
import { sortedKeys } from '../json-output.js';
import { EXIT, printable, type CliIo } from '../io.js';
import { remoteOrDirect } from '../remote-or-direct.js';
import { withStoreOptions, type StoreFlags } from '../with-core.js';
import { formatOf } from './format.js';
import { toQuery, withFilters, type FilterFlags } from './audit-export.js';



function line(e: AuditEvent): string {
  return printable(rawLine(e));
}

function rawLine(e: AuditEvent): string {
  const who = e.agent?.id ?? e.actor.id;
  const what = e.target?.name ?? e.target?.uri ?? e.action?.kind ?? '';
  const why = e.decision?.reasons[0] ? ` ${e.decision.reasons[0].policy}/${e.decision.reasons[0].rule}` : '';
  return `${e.time} ${e.tenantId}#${e.integrity?.seq ?? '?'} ${e.type} ${e.outcome} ${e.scope} ${who} ${what}${why}`;
}

/** `warden audit tail`: the last events, then new ones as they commit (filterable); through WARDEN_URL or on the database. */
export function registerAuditTail(audit: Command, io: CliIo, done: (code: number) => void): void {
  withFilters(withStoreOptions(audit.command('tail').description('show the latest audit events and follow new ones')))
    .option('-n, --lines <n>', 'how many recent events to show first', '20')
    .option('--no-follow', 'print the recent events and exit')
    .option('--interval <ms>', 'poll interval while following', '500')
    .option('--format <format>', 'human or json (one JSON event per line; default: human)')
    .option('--json', 'the same as --format json')
    .action(async (opts: StoreFlags & FilterFlags & { lines: string; follow: boolean; interval: string; format?: string; json?: boolean }) => {
      const query = toQuery(opts);
      const json = formatOf(opts) === 'json';
      const show = (e: AuditEvent) => io.stdout(`${json ? JSON.stringify(sortedKeys(e)) : line(e)}\n`);
      const follow = async (list: ListEvents) => {
        const recent = await list({ ...query, limit: Math.min(Math.max(Number(opts.lines) || 20, 1), 1000) });
        const seen = new Set(recent.events.map((e) => e.id));
        for (const e of [...recent.events].reverse()) show(e);
        if (opts.follow) {
          // Follow by log time, which only moves forward along each chain.
          let since = recent.events[0]?.time ?? new Date().toISOString();
          let stopped = false;
          void io.untilStopped().then(() => (stopped = true));
          while (!stopped) {
            await new Promise((r) => setTimeout(r, Number(opts.interval) || 500));
            const page = await list({ ...query, from: since, limit: 1000 });
            for (const e of [...page.events].reverse()) {
              if (seen.has(e.id)) continue;
              seen.add(e.id);
              show(e);
              if (e.time > since) since = e.time;
            }
            if (seen.size > 100_000) seen.clear();
          }
        }
      };
      await remoteOrDirect(io, opts, (r) => follow(remoteEvents(r)), ({ auditLog: repo }) => follow((q) => repo.list(q)));
      done(EXIT.ok);
    });
}
