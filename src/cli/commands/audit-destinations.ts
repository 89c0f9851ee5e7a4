import type { Command } from 'commander';
import { CliError, EXIT, type CliIo } from '../io.js';
import { withCore, withStoreOptions, type StoreFlags } from '../with-core.js';
import { formatOf } from './format.js';

/** `warden audit destinations` (delivery status) and `warden audit replay`. */
export function registerAuditDestinations(audit: Command, io: CliIo, done: (code: number) => void): void {
  withStoreOptions(audit.command('destinations').description('show each streaming destination: cursor, lag, failures, dead letters'))
    .option('--format <format>', 'human or json (default: human)')
    .option('--json', 'the same as --format json')
    .action(async (opts: StoreFlags & { format?: string; json?: boolean }) => {
      const format = formatOf(opts);
      await withCore(io, opts, async ({ auditLog: repo, delivery }) => {
        const states = await delivery.status();
        const rows = await Promise.all(states.map(async (s) => ({ ...s, head: (await repo.head(s.tenantId)).seq })));
        if (format === 'json') io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
        else if (rows.length === 0) io.stdout('no destination has delivered yet\n');
        else
          for (const r of rows)
            io.stdout(`${r.destination} [${r.tenantId}] cursor ${r.cursorSeq}/${r.head} (lag ${r.head - r.cursorSeq}), delivered ${r.delivered}, dead ${r.dead}${r.lastError ? `, last error: ${r.lastError} (attempt ${r.attempts})` : ''}\n`);
      });
      done(EXIT.ok);
    });

  withStoreOptions(audit.command('replay').description('deliver again from a sequence number (the server picks it up)'))
    .argument('<destination>', 'destination name')
    .requiredOption('--from-seq <n>', 'first sequence number to deliver again')
    .option('--tenant <id>', 'tenant', 'default')
    .action(async (destination: string, opts: StoreFlags & { fromSeq: string; tenant: string }) => {
      const from = Number(opts.fromSeq);
      if (!Number.isInteger(from) || from < 1) throw new CliError('`--from-seq` must be a whole number from 1');
      await withCore(io, opts, ({ delivery }) => delivery.replay(destination, opts.tenant, from));
      io.stdout(`${destination} [${opts.tenant}] will deliver again from ${from}\n`);
      done(EXIT.ok);
    });
}
