import type { Command } from 'commander';
import type { LegalHold } from '../../audit/index.js';
import { AUDIT_CATEGORIES } from '../../domain/index.js';
import { localActor } from '../local-actor.js';
import { CliError, EXIT, type CliIo } from '../io.js';
import { DEFAULT_TENANT, directOnly, remoteOrDirect, type DirectFlags } from '../remote-or-direct.js';
import { withStoreOptions } from '../with-core.js';

/** A hundred years, as the API allows: longer is a typo for "forever" (`--clear`). */
const MAX_DAYS = 36_500;

type Period = { tenantId: string; category: string; days: number };

const TENANT_HELP = `the tenant (database access only; through a server the token names it) [${DEFAULT_TENANT}; listings: every tenant]`;

function holdLine(h: LegalHold): string {
  return `${h.id} ${h.releasedAt ? 'released' : 'active'} ${h.tenantId} ${h.scope} ${h.from ?? '-'}..${h.to ?? '-'} by ${h.createdBy}: ${h.reason}\n`;
}

/**
 * `warden audit retention` and `warden audit hold`: periods per category, legal holds, and the
 * removal pass. Through WARDEN_URL they change the token's tenant; on the database, `--tenant`'s
 * (listings show every tenant unless `--tenant` names one). `--run` needs the database: a server
 * runs the pass on its own timer.
 */
export function registerAuditRetention(audit: Command, io: CliIo, done: (code: number) => void): void {
  withStoreOptions(audit.command('retention').description('show or set retention per category, and run the removal pass'))
    .option('--tenant <id>', TENANT_HELP)
    .option('--set <category=days>', `keep a category this many days (categories: ${AUDIT_CATEGORIES.join(', ')}); repeatable`, (v: string, p: string[] = []) => [...p, v])
    .option('--clear <category>', 'keep a category forever again; repeatable', (v: string, p: string[] = []) => [...p, v])
    .option('--run', 'remove what has expired now (legal holds are kept; database access only: a server runs it hourly)')
    .action(async (opts: DirectFlags & { set?: string[]; clear?: string[]; run?: boolean }) => {
      const changes = (opts.set ?? []).map((s) => {
        const m = /^([a-z_]+)=(\d+)$/.exec(s);
        if (!m || !(AUDIT_CATEGORIES as readonly string[]).includes(m[1]!) || Number(m[2]) < 1 || Number(m[2]) > MAX_DAYS) throw new CliError(`\`--set ${s}\` must be CATEGORY=DAYS with a known category and 1 to ${MAX_DAYS} days`);
        return { category: m[1]!, days: Number(m[2]) };
      });
      for (const c of opts.clear ?? []) if (!(AUDIT_CATEGORIES as readonly string[]).includes(c)) throw new CliError(`unknown category \`${c}\``);
      if (opts.run) directOnly(io, '`--run`', 'the server runs the removal pass on its own timer');
      const periods = await remoteOrDirect<Period[]>(
        io,
        opts,
        async (r) => {
          for (const c of changes) await r.request('PUT', `/api/v1/audit/retention/${c.category}`, { days: c.days });
          for (const c of opts.clear ?? []) await r.request('DELETE', `/api/v1/audit/retention/${c}`);
          return (await r.request<{ periods: Period[] }>('GET', '/api/v1/audit/retention')).periods;
        },
        async (core) => {
          const tenant = opts.tenant ?? DEFAULT_TENANT;
          for (const c of changes) await core.retention.setRetention(tenant, c.category, c.days, localActor());
          for (const c of opts.clear ?? []) await core.retention.setRetention(tenant, c, undefined, localActor());
          if (opts.run) {
            for (const o of await core.retention.run()) io.stdout(`${o.tenantId} ${o.category}: removed ${o.removed} event(s) before ${o.before}${o.fromSeq !== undefined ? ` (seq ${o.fromSeq}..${o.toSeq}, stubs kept)` : ''}, ${o.held} kept by legal holds\n`);
          }
          return (await core.retentionStore.retention()).filter((r) => opts.tenant === undefined || r.tenantId === opts.tenant);
        },
      );
      for (const r of periods) io.stdout(`${r.tenantId} ${r.category}: ${r.days} day(s)\n`);
      done(EXIT.ok);
    });

  const hold = audit.command('hold').description('legal holds: events retention must keep');
  withStoreOptions(hold.command('add').description('keep every event of a scope (and below) in a time range'))
    .requiredOption('--scope <path>', 'scope')
    .requiredOption('--reason <text>', 'why (case number, request)')
    .option('--from <time>', 'RFC 3339, inclusive')
    .option('--to <time>', 'RFC 3339, exclusive')
    .option('--tenant <id>', TENANT_HELP)
    .action(async (opts: DirectFlags & { scope: string; reason: string; from?: string; to?: string }) => {
      for (const t of [opts.from, opts.to]) if (t !== undefined && Number.isNaN(Date.parse(t))) throw new CliError(`\`${t}\` is not an RFC 3339 time`);
      const body = { scope: opts.scope, reason: opts.reason, ...(opts.from ? { from: opts.from } : {}), ...(opts.to ? { to: opts.to } : {}) };
      const h = await remoteOrDirect(
        io,
        opts,
        (r) => r.request<LegalHold>('POST', '/api/v1/audit/holds', body),
        (core) => core.retention.addHold({ tenantId: opts.tenant ?? DEFAULT_TENANT, ...body }, localActor()),
      );
      io.stdout(`hold ${h.id} keeps ${h.scope}${h.from || h.to ? ` from ${h.from ?? 'the start'} to ${h.to ?? 'now on'}` : ''}\n`);
      done(EXIT.ok);
    });
  withStoreOptions(hold.command('release').description('release a legal hold').argument('<id>', 'hold id'))
    .option('--tenant <id>', TENANT_HELP)
    .action(async (id: string, opts: DirectFlags) => {
      const released = await remoteOrDirect(
        io,
        opts,
        (r) => r.request<LegalHold>('POST', `/api/v1/audit/holds/${encodeURIComponent(id)}/release`),
        (core) => core.retention.releaseHold(opts.tenant ?? DEFAULT_TENANT, id, localActor()),
      );
      if (!released) throw new CliError(`no active hold \`${id}\` in tenant \`${opts.tenant ?? DEFAULT_TENANT}\``);
      io.stdout(`hold ${id} released\n`);
      done(EXIT.ok);
    });
  withStoreOptions(hold.command('list').description('list legal holds'))
    .option('--tenant <id>', TENANT_HELP)
    .action(async (opts: DirectFlags) => {
      const holds = await remoteOrDirect(
        io,
        opts,
        async (r) => (await r.request<{ holds: LegalHold[] }>('GET', '/api/v1/audit/holds')).holds,
        (core) => core.retentionStore.holds(opts.tenant),
      );
      for (const h of holds) io.stdout(holdLine(h));
      done(EXIT.ok);
    });
  hold.exitOverride();
  for (const c of hold.commands) c.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
}
