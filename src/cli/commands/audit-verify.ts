import { createPublicKey, type KeyObject } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { isRetentionEvidence, keyIdOf, verifyChain, type ChainEntry, type SignedCheckpoint, type VerifyReport } from '../../audit/index.js';
import { resolveStoreConfig } from '../../config/index.js';
import type { AuditEvent } from '../../domain/index.js';
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

/** The configured signing key's file when it exists here (its public half is trusted), else undefined. */
function ownSigningKey(file: string): string | undefined {
  return existsSync(file) ? file : undefined;
}

/** At most this many column mismatches are read per tenant (like findings). */
const MAX_FINDINGS = 100;

/**
 * How long after the last checkpoint an event may be logged before the chain counts as unsealed:
 * `--max-seal-age`, else twice the checkpoint interval plus a minute; none when sealing is off.
 */
function maxSealAgeMs(opts: { maxSealAge?: string; checkpointInterval?: string }, env: Readonly<Record<string, string | undefined>>): number | undefined {
  const seconds = (name: string, v: string) => {
    if (!/^\d+$/.test(v)) throw new CliError(`\`${name}\` must be a whole number of seconds, got \`${v}\``);
    return Number(v);
  };
  if (opts.maxSealAge !== undefined) return seconds('--max-seal-age', opts.maxSealAge) * 1000;
  const interval = seconds('--checkpoint-interval', opts.checkpointInterval ?? env.WARDEN_CHECKPOINT_INTERVAL ?? '60');
  return interval === 0 ? undefined : (2 * interval + 60) * 1000;
}

function printReport(io: CliIo, tenant: string, r: VerifyReport, trusted: boolean): void {
  io.stdout(`tenant ${tenant}: ${r.events} events, last seq ${r.lastSeq}, ${r.checkpoints} checkpoint(s)${r.checkpoints > 0 && !trusted ? ' (signatures checked against their embedded keys; pass --trusted-key to pin the signer)' : ''}\n`);
  if (r.ok) io.stdout('  OK: no event was changed, removed, inserted or reordered, and the chain is sealed\n');
  else {
    const unsealedOnly = r.findings.every((f) => f.kind === 'unsealed');
    io.stdout(unsealedOnly ? `  NOT SEALED: events from sequence number ${r.firstBadSeq} are not under a recent signed checkpoint\n` : `  TAMPERED: first bad sequence number ${r.firstBadSeq}\n`);
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
      .option('--trusted-key <pem>', 'public key a checkpoint must be signed with; repeatable (default for the database: the public half of the configured signing key, when it exists here)', (v: string, p: string[] = []) => [...p, v])
      .option('--audit-key <file>', 'the signing key whose public half checkpoints in the database must carry (env WARDEN_AUDIT_KEY; default <data-dir>.audit-key.pem)')
      .option('--max-seal-age <seconds>', 'fail when an event was logged this long after the last checkpoint (default: 2 x checkpoint interval + 60)')
      .option('--checkpoint-interval <seconds>', 'the sealing interval the log was written under (env WARDEN_CHECKPOINT_INTERVAL, default 60)'),
  )).action(async (opts: StoreFlags & { auditKey?: string; tenant?: string; events?: string; checkpoints?: string; trustedKey?: string[]; maxSealAge?: string; checkpointInterval?: string; format: string; json?: boolean }) => {
    const format = formatOf(opts);
    const seal = { maxAgeMs: maxSealAgeMs(opts, io.env) };
    // Against the database, checkpoints are held to this installation's own signing key by default: a
    // key embedded in a checkpoint proves nothing when whoever rewrote the rows also re-signed them.
    const own = !opts.events && !opts.trustedKey?.length ? ownSigningKey(resolveStoreConfig(opts, io.env).auditKeyFile) : undefined;
    const trusted = await trustedKeys(own ? [own] : (opts.trustedKey ?? []));
    const reports: Record<string, VerifyReport> = {};
    // A counter rewritten in place: only on a terminal, and cleared before the report.
    const live = format === 'human' && io.stderrIsTTY === true;
    const progress = (n: number) => live && io.stderr(`\rverified ${n} events…`);
    if (opts.events) {
      // Offline: a third party holds only the export and the signed checkpoints.
      const checkpoints: SignedCheckpoint[] = [];
      if (opts.checkpoints) for await (const cp of jsonLines<SignedCheckpoint>(opts.checkpoints)) checkpoints.push(cp);
      // A first pass keeps only the retention and hold events stubs are judged by (few).
      const evidence = new Map<string, AuditEvent[]>();
      for await (const e of jsonLines<ChainEntry>(opts.events)) {
        if (!('stub' in e) && isRetentionEvidence(e)) evidence.set(e.tenantId, [...(evidence.get(e.tenantId) ?? []), e]);
      }
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
        reports[tenant] = await verifyChain(chain(), { checkpoints: checkpoints.filter((c) => c.tenantId === tenant), evidence: evidence.get(tenant) ?? [], seal, ...(trusted ? { trustedKeys: trusted } : {}), onProgress: progress });
      }
      for (const cp of checkpoints) if (!(cp.tenantId in reports) && (!opts.tenant || cp.tenantId === opts.tenant)) reports[cp.tenantId] = await verifyChain([], { checkpoints: [cp], ...(trusted ? { trustedKeys: trusted } : {}) });
    } else {
      await withCore(io, opts, async ({ auditLog: repo }) => {
        const tenants = opts.tenant ? [opts.tenant] : await repo.tenants();
        for (const t of tenants) {
          // Events are hashed as stored, unparsed; their indexed columns are compared while they stream.
          const stored = repo.storedChain(t);
          reports[t] = await verifyChain(stored.entries, {
            head: await repo.head(t),
            checkpoints: await repo.listCheckpoints(t),
            evidence: await repo.evidence(t),
            columnMismatches: () => stored.columnMismatches(MAX_FINDINGS),
            seal,
            ...(trusted ? { trustedKeys: trusted } : {}),
            onProgress: progress,
          });
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
