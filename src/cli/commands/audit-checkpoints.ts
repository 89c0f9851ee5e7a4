import { createPublicKey } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import type { Command } from 'commander';
import { keyIdOf } from '../../audit/index.js';
import { loadSigningKey, resolveStoreConfig } from '../../config/index.js';
import { EXIT, type CliIo } from '../io.js';
import { withCore, withStoreOptions, type StoreFlags } from '../with-core.js';

function keyFile(flags: StoreFlags, env: Readonly<Record<string, string | undefined>>): string {
  return resolveStoreConfig(flags, env).auditKeyFile;
}

/** `warden audit seal`, `warden audit checkpoints` and `warden audit keys`. */
export function registerAuditCheckpoints(audit: Command, io: CliIo, done: (code: number) => void): void {
  withStoreOptions(audit.command('seal').description('sign a checkpoint over every event committed since the last one'))
    .option('--audit-key <file>', 'Ed25519 private key (env WARDEN_AUDIT_KEY)')
    .action(async (opts: StoreFlags & { auditKey?: string }) => {
      // Read first, so a missing or broken key is reported as such, not as "nothing to seal".
      await loadSigningKey(keyFile(opts, io.env), { create: false });
      await withCore(io, opts, async ({ checkpointer }) => {
        const cps = (await checkpointer?.sealAll()) ?? [];
        for (const cp of cps) io.stdout(`sealed ${cp.tenantId} ${cp.fromSeq}..${cp.toSeq} root ${cp.root} key ${cp.keyId}\n`);
        if (cps.length === 0) io.stdout('nothing new to seal\n');
      });
      done(EXIT.ok);
    });

  withStoreOptions(audit.command('checkpoints').description('export the signed checkpoints as JSON lines, for verification without database access'))
    .option('--output <file>', 'write here instead of stdout')
    .action(async (opts: StoreFlags & { output?: string }) => {
      const out = opts.output ? createWriteStream(opts.output) : undefined;
      const write = (s: string) => (out ? out.write(s) : io.stdout(s));
      try {
        await withCore(io, opts, async ({ auditLog: repo }) => {
          for (const t of await repo.tenants()) for (const cp of await repo.listCheckpoints(t)) write(`${JSON.stringify(cp)}\n`);
        });
      } finally {
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
