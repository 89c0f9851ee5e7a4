import type { Command } from 'commander';
import type { RetentionService, RetentionStore } from '../../audit/index.js';
import { AUDIT_CATEGORIES } from '../../domain/index.js';
import { CliError, EXIT, type CliIo } from '../io.js';
import { withCore, withStoreOptions, type StoreFlags } from '../with-core.js';

function withService<T>(opts: StoreFlags, io: CliIo, fn: (svc: RetentionService, repo: RetentionStore) => Promise<T>): Promise<T> {
  return withCore(io, opts, (core) => fn(core.retention, core.retentionStore));
}

const actorOf = (io: CliIo) => io.env.USER ?? 'cli';

/** `warden audit retention` and `warden audit hold`: periods per category, legal holds, and the removal pass. */
export function registerAuditRetention(audit: Command, io: CliIo, done: (code: number) => void): void {
  withStoreOptions(audit.command('retention').description('show or set retention per category, and run the removal pass'))
    .option('--tenant <id>', 'tenant', 'default')
    .option('--set <category=days>', `keep a category this many days (categories: ${AUDIT_CATEGORIES.join(', ')}); repeatable`, (v: string, p: string[] = []) => [...p, v])
    .option('--clear <category>', 'keep a category forever again; repeatable', (v: string, p: string[] = []) => [...p, v])
    .option('--run', 'remove what has expired now (legal holds are kept)')
    .action(async (opts: StoreFlags & { tenant: string; set?: string[]; clear?: string[]; run?: boolean }) => {
      const changes = (opts.set ?? []).map((s) => {
        const m = /^([a-z_]+)=(\d+)$/.exec(s);
        if (!m || !(AUDIT_CATEGORIES as readonly string[]).includes(m[1]!) || Number(m[2]) < 1) throw new CliError(`\`--set ${s}\` must be CATEGORY=DAYS with a known category and at least 1 day`);
        return { category: m[1]!, days: Number(m[2]) };
      });
      for (const c of opts.clear ?? []) if (!(AUDIT_CATEGORIES as readonly string[]).includes(c)) throw new CliError(`unknown category \`${c}\``);
      await withService(opts, io, async (svc, repo) => {
        for (const c of changes) await svc.setRetention(opts.tenant, c.category, c.days, actorOf(io));
        for (const c of opts.clear ?? []) await svc.setRetention(opts.tenant, c, undefined, actorOf(io));
        if (opts.run) {
          for (const o of await svc.run()) io.stdout(`${o.tenantId} ${o.category}: removed ${o.removed} event(s) before ${o.before}${o.fromSeq !== undefined ? ` (seq ${o.fromSeq}..${o.toSeq}, stubs kept)` : ''}, ${o.held} kept by legal holds\n`);
        }
        for (const r of await repo.retention()) io.stdout(`${r.tenantId} ${r.category}: ${r.days} day(s)\n`);
      });
      done(EXIT.ok);
    });

  const hold = audit.command('hold').description('legal holds: events retention must keep');
  withStoreOptions(hold.command('add').description('keep every event of a scope (and below) in a time range'))
    .requiredOption('--scope <path>', 'scope')
    .requiredOption('--reason <text>', 'why (case number, request)')
    .option('--from <time>', 'RFC 3339, inclusive')
    .option('--to <time>', 'RFC 3339, exclusive')
    .option('--tenant <id>', 'tenant', 'default')
    .action(async (opts: StoreFlags & { scope: string; reason: string; from?: string; to?: string; tenant: string }) => {
      for (const t of [opts.from, opts.to]) if (t !== undefined && Number.isNaN(Date.parse(t))) throw new CliError(`\`${t}\` is not an RFC 3339 time`);
      const h = await withService(opts, io, (svc) => svc.addHold({ tenantId: opts.tenant, scope: opts.scope, reason: opts.reason, createdBy: actorOf(io), ...(opts.from ? { from: opts.from } : {}), ...(opts.to ? { to: opts.to } : {}) }));
      io.stdout(`hold ${h.id} keeps ${h.scope}${h.from || h.to ? ` from ${h.from ?? 'the start'} to ${h.to ?? 'now on'}` : ''}\n`);
      done(EXIT.ok);
    });
  withStoreOptions(hold.command('release').description('release a legal hold').argument('<id>', 'hold id')).action(async (id: string, opts: StoreFlags) => {
    const ok = await withService(opts, io, (svc) => svc.releaseHold(id, actorOf(io)));
    if (!ok) throw new CliError(`no active hold \`${id}\``);
    io.stdout(`hold ${id} released\n`);
    done(EXIT.ok);
  });
  withStoreOptions(hold.command('list').description('list legal holds')).action(async (opts: StoreFlags) => {
    await withService(opts, io, async (_svc, repo) => {
      for (const h of await repo.holds()) io.stdout(`${h.id} ${h.releasedAt ? 'released' : 'active'} ${h.tenantId} ${h.scope} ${h.from ?? '-'}..${h.to ?? '-'} by ${h.createdBy}: ${h.reason}\n`);
    });
    done(EXIT.ok);
  });
  hold.exitOverride();
  for (const c of hold.commands) c.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
}
