import { createPublicKey } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import type { Command } from 'commander';
import { createCheckpointer, keyIdOf } from '../../audit/index.js';
import { systemClock } from '../../domain/index.js';
import { loadSigningKey } from '../../config/signing-key.js';
import { EXIT, type CliIo } from '../io.js';
import { openStore, withStoreOptions, type StoreFlags } from '../store-options.js';

function keyFile(flags: StoreFlags & { auditKey?: string }, env: Readonly<Record<string, string | undefined>>): string {
  const dataDir = flags.dataDir ?? env.WARDEN_DATA_DIR ?? '.warden/data';
  return flags.auditKey ?? env.WARDEN_AUDIT_KEY ?? `${dataDir.replace(/\/+$/, '')}.audit-key.pem`;
}

/** `warden audit seal`, `warden audit checkpoints` and `warden audit keys`. */
export function registerAuditCheckpoints(audit: Command, io: CliIo, done: (code: number) => void): void {
  withStoreOptions(audit.command('seal').description('sign a checkpoint over every event committed since the last one'))
    .option('--audit-key <file>', 'Ed25519 private key (env WARDEN_AUDIT_KEY)')
    .action(async (opts: StoreFlags & { auditKey?: string }) => {
      const { key } = await loadSigningKey(keyFile(opts, io.env), { create: false });
      const { database, repo } = await openStore(opts, io.env);
      try {
        const cps = await createCheckpointer({ chain: repo, checkpoints: repo, key, clock: systemClock }).sealAll();
        for (const cp of cps) io.stdout(`sealed ${cp.tenantId} ${cp.fromSeq}..${cp.toSeq} root ${cp.root} key ${cp.keyId}\n`);
        if (cps.length === 0) io.stdout('nothing new to seal\n');
      } finally {
        await database.close();
      }
      done(EXIT.ok);
    });

  withStoreOptions(audit.command('checkpoints').description('export the signed checkpoints as JSON lines, for verification without database access'))
    .option('--output <file>', 'write here instead of stdout')
    .action(async (opts: StoreFlags & { output?: string }) => {
      const { database, repo } = await openStore(opts, io.env);
      const out = opts.output ? createWriteStream(opts.output) : undefined;
      const write = (s: string) => (out ? out.write(s) : io.stdout(s));
      try {
        for (const t of await repo.tenants()) for (const cp of await repo.listCheckpoints(t)) write(`${JSON.stringify(cp)}\n`);
      } finally {
        await database.close();
        if (out) await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
      }
      done(EXIT.ok);
    });

  audit
    .command('keys')
    .description('print the public key and key id that sign checkpoints, to publish to verifiers')
    .option('--data-dir <dir>', 'embedded database directory (env WARDEN_DATA_DIR)')
    .option('--audit-key <file>', 'Ed25519 private key (env WARDEN_AUDIT_KEY)')
    .action(async (opts: StoreFlags & { auditKey?: string }) => {
      const { key } = await loadSigningKey(keyFile(opts, io.env), { create: false });
      const pub = createPublicKey(key);
      io.stdout(`key id: ${keyIdOf(pub)}\n${pub.export({ type: 'spki', format: 'pem' }).toString()}`);
      done(EXIT.ok);
    });
}
