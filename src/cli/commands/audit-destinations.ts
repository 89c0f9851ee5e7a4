import type { Command } from 'commander';
import { createDeliveryRepo } from '../../store/index.js';
import { CliError, EXIT, type CliIo } from '../io.js';
import { openStore, withStoreOptions, type StoreFlags } from '../store-options.js';

/** `warden audit destinations` (delivery status) and `warden audit replay`. */
export function registerAuditDestinations(audit: Command, io: CliIo, done: (code: number) => void): void {
  withStoreOptions(audit.command('destinations').description('show each streaming destination: cursor, lag, failures, dead letters'))
    .option('--json', 'print JSON')
    .action(async (opts: StoreFlags & { json?: boolean }) => {
      const { database, repo } = await openStore(opts, io.env);
      try {
        const states = await createDeliveryRepo(database.db).status();
        const rows = await Promise.all(states.map(async (s) => ({ ...s, head: (await repo.head(s.tenantId)).seq })));
        if (opts.json) io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
        else if (rows.length === 0) io.stdout('no destination has delivered yet\n');
        else
          for (const r of rows)
            io.stdout(`${r.destination} [${r.tenantId}] cursor ${r.cursorSeq}/${r.head} (lag ${r.head - r.cursorSeq}), delivered ${r.delivered}, dead ${r.dead}${r.lastError ? `, last error: ${r.lastError} (attempt ${r.attempts})` : ''}\n`);
      } finally {
        await database.close();
      }
      done(EXIT.ok);
    });

  withStoreOptions(audit.command('replay').description('deliver again from a sequence number (the server picks it up)'))
    .argument('<destination>', 'destination name')
    .requiredOption('--from-seq <n>', 'first sequence number to deliver again')
    .option('--tenant <id>', 'tenant', 'default')
    .action(async (destination: string, opts: StoreFlags & { fromSeq: string; tenant: string }) => {
      const from = Number(opts.fromSeq);
      if (!Number.isInteger(from) || from < 1) throw new CliError('`--from-seq` must be a whole number from 1');
      const { database } = await openStore(opts, io.env);
      try {
        await createDeliveryRepo(database.db).replay(destination, opts.tenant, from);
      } finally {
        await database.close();
      }
      io.stdout(`${destination} [${opts.tenant}] will deliver again from ${from}\n`);
      done(EXIT.ok);
    });
}
