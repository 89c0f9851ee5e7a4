import type { Command } from 'commander';
import { replayDestination, type DeliveryState } from '../../audit/index.js';
import { localActor } from '../local-actor.js';
import { CliError, EXIT, type CliIo } from '../io.js';
import { DEFAULT_TENANT, remoteOrDirect, seg, type DirectFlags } from '../remote-or-direct.js';
import { withStoreOptions } from '../with-core.js';
import { jsonText } from '../json-output.js';
import { formatOf, withFormatOption } from './format.js';

/** A cursor with the head of its tenant's chain: the lag is the difference. */
type Row = DeliveryState & { head: number };

const TENANT_HELP = `the tenant (database access only; through a server the token names it) [${DEFAULT_TENANT}; the status: every tenant]`;

/**
 * `warden audit destinations` (delivery status) and `warden audit replay`, through WARDEN_URL (the
 * token's tenant) or on the database (every tenant, or `--tenant`'s).
 */
export function registerAuditDestinations(audit: Command, io: CliIo, done: (code: number) => void): void {
  withFormatOption(withStoreOptions(audit.command('destinations').description('show each streaming destination: cursor, lag, failures, dead letters')))
    .option('--tenant <id>', TENANT_HELP)
    .action(async (opts: DirectFlags & { format?: string; json?: boolean }) => {
      const format = formatOf(opts);
      const rows = await remoteOrDirect<Row[]>(
        io,
        opts,
        async (r) => (await r.request<{ destinations: (DeliveryState & { head?: number })[] }>('GET', '/api/v1/audit/destinations')).destinations.map((s) => ({ ...s, head: s.head ?? s.cursorSeq })),
        async ({ auditLog, delivery }) => Promise.all((await delivery.status(opts.tenant)).map(async (s) => ({ ...s, head: (await auditLog.head(s.tenantId)).seq }))),
      );
      if (format === 'json') io.stdout(jsonText(rows));
      else if (rows.length === 0) io.stdout('no destination has delivered yet\n');
      else
        for (const r of rows)
          io.stdout(`${r.destination} [${r.tenantId}] cursor ${r.cursorSeq}/${r.head} (lag ${r.head - r.cursorSeq}), delivered ${r.delivered}, dead ${r.dead}${r.lastError ? `, last error: ${r.lastError} (attempt ${r.attempts})` : ''}\n`);
      done(EXIT.ok);
    });

  withStoreOptions(audit.command('replay').description('deliver again from a sequence number (the server picks it up); audited as `audit.stream.replayed`'))
    .argument('<destination>', 'destination name')
    .requiredOption('--from-seq <n>', 'first sequence number to deliver again')
    .option('--tenant <id>', `the tenant (database access only; through a server the token names it) [${DEFAULT_TENANT}]`)
    .action(async (destination: string, opts: DirectFlags & { fromSeq: string }) => {
      const fromSeq = Number(opts.fromSeq);
      if (!Number.isSafeInteger(fromSeq) || fromSeq < 1) throw new CliError('`--from-seq` must be a whole number from 1');
      const tenantId = await remoteOrDirect(
        io,
        opts,
        async (r) => (await r.request<{ tenantId: string }>('POST', `/api/v1/audit/destinations/${seg(destination)}/replay`, { fromSeq })).tenantId,
        async ({ delivery, audit: writer, clock }) => {
          const tenant = opts.tenant ?? DEFAULT_TENANT;
          await replayDestination({ delivery, audit: writer, clock }, { destination, tenantId: tenant, fromSeq }, localActor());
          return tenant;
        },
      );
      io.stdout(`${destination} [${tenantId}] will deliver again from ${fromSeq}\n`);
      done(EXIT.ok);
    });
}
