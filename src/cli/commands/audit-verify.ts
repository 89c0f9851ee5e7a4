import { createPublicKey, type KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { keyIdOf, verifyChain, type ChainEntry, type SignedCheckpoint, type VerifyReport } from '../../audit/index.js';
import { CliError, EXIT, type CliIo } from '../io.js';
import { withCore, withStoreOptions, type StoreFlags } from '../with-core.js';
import { formatOf, withFormatOption } from './format.js';

async function* jsonLines<T>(file: string): AsyncIterable<T> {
  const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let n = 0;
  for await (const line of rl) {
    n++;
    if (line.trim() === '') continue;
    try {
      yield JSON.parse(line) as T;
    } catch {
      throw new CliError(`${file}:${n}: not a JSON line`);
    }
  }
}

async function trustedKeys(files: readonly string[]): Promise<Map<string, KeyObject> | undefined> {
  if (files.length === 0) return undefined;
  const map = new Map<string, KeyObject>();
  for (const f of files) {
    let key: KeyObject;
    try {
      key = createPublicKey(await readFile(f, 'utf8'));
    } catch {
      throw new CliError(`\`${f}\` is not a PEM public (or private) key`);
    }
    map.set(keyIdOf(key), key);
  }
  return map;
}

function printReport(io: CliIo, tenant: string, r: VerifyReport, trusted: boolean): void {
  io.stdout(`tenant ${tenant}: ${r.events} events, last seq ${r.lastSeq}, ${r.checkpoints} checkpoint(s)${r.checkpoints > 0 && !trusted ? ' (signatures checked against their embedded keys; pass --trusted-key to pin the signer)' : ''}\n`);
  if (r.ok) io.stdout('  OK: no event was changed, removed, inserted or reordered\n');
  else {
    io.stdout(`  TAMPERED: first bad sequence number ${r.firstBadSeq}\n`);
    for (const f of r.findings) io.stdout(`  ${f.kind} at ${f.seq}: ${f.message}\n`);
  }
}

/** `warden audit verify`: recompute the chain and check signed checkpoints, from the database or from export files. */
export function registerAuditVerify(audit: Command, io: CliIo, done: (code: number) => void): void {
  withFormatOption(withStoreOptions(
    audit
      .command('verify')
      .description('prove the audit log was not altered: hashes, links, sequence, head and signed checkpoints')
      .option('--tenant <id>', 'verify one tenant (default: all)')
      .option('--events <file>', 'verify an export (`warden audit export --order chain`) instead of the database')
      .option('--checkpoints <file>', 'signed checkpoints (`warden audit checkpoints`) to check the export against')
      .option('--trusted-key <pem>', 'public key a checkpoint must be signed with; repeatable', (v: string, p: string[] = []) => [...p, v]),
  )).action(async (opts: StoreFlags & { tenant?: string; events?: string; checkpoints?: string; trustedKey?: string[]; format: string; json?: boolean }) => {
    const format = formatOf(opts);
    const trusted = await trustedKeys(opts.trustedKey ?? []);
    const reports: Record<string, VerifyReport> = {};
    // A counter rewritten in place: only on a terminal, and cleared before the report.
    const live = format === 'human' && io.stderrIsTTY === true;
    const progress = (n: number) => live && io.stderr(`\rverified ${n} events…`);
    if (opts.events) {
      // Offline: a third party holds only the export and the signed checkpoints.
      const checkpoints: SignedCheckpoint[] = [];
      if (opts.checkpoints) for await (const cp of jsonLines<SignedCheckpoint>(opts.checkpoints)) checkpoints.push(cp);
      // Streams tenant by tenant (the export lists each tenant's chain in order): constant memory.
      const lines = jsonLines<ChainEntry>(opts.events)[Symbol.asyncIterator]();
      let next = await lines.next();
      const done = new Set<string>();
      while (!next.done) {
        const tenant = next.value.tenantId;
        if (done.has(tenant)) throw new CliError('the export interleaves tenants; export it with `--order chain`');
        done.add(tenant);
        async function* chain(): AsyncIterable<ChainEntry> {
          while (!next.done && next.value.tenantId === tenant) {
            yield next.value;
            next = await lines.next();
          }
        }
        if (opts.tenant && tenant !== opts.tenant) {
          for await (const _ of chain()) void _;
          continue;
        }
        reports[tenant] = await verifyChain(chain(), { checkpoints: checkpoints.filter((c) => c.tenantId === tenant), ...(trusted ? { trustedKeys: trusted } : {}), onProgress: progress });
      }
      for (const cp of checkpoints) if (!(cp.tenantId in reports) && (!opts.tenant || cp.tenantId === opts.tenant)) reports[cp.tenantId] = await verifyChain([], { checkpoints: [cp], ...(trusted ? { trustedKeys: trusted } : {}) });
    } else {
      await withCore(io, opts, async ({ auditLog: repo }) => {
        const tenants = opts.tenant ? [opts.tenant] : await repo.tenants();
        for (const t of tenants) {
          reports[t] = await verifyChain(repo.streamChain(t), { head: await repo.head(t), checkpoints: await repo.listCheckpoints(t), ...(trusted ? { trustedKeys: trusted } : {}), onProgress: progress });
        }
      });
    }
    if (live) io.stderr('\r\x1b[K');
    const ok = Object.values(reports).every((r) => r.ok);
    if (format === 'json') io.stdout(`${JSON.stringify({ ok, tenants: reports }, null, 2)}\n`);
    else {
      if (Object.keys(reports).length === 0) io.stdout('the audit log is empty\n');
      for (const [t, r] of Object.entries(reports)) printReport(io, t, r, trusted !== undefined);
    }
    done(ok ? EXIT.ok : EXIT.findings);
  });
}
