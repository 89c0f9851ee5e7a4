import type { Command } from 'commander';
import { resolveStoreConfig, type StoreFlags } from '../config/index.js';
import { createCore, type Core } from '../main/core.js';
import pino from 'pino';
import type { CliIo } from './io.js';

export type { StoreFlags };

/** Adds `--data-dir` and `--database-url` to a command, as `warden serve` takes them. */
export function withStoreOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'embedded database directory (env WARDEN_DATA_DIR)')
    .option('--database-url <url>', 'PostgreSQL URL (env WARDEN_DATABASE_URL)');
}

/**
 * Runs `fn` on the core over the store the flags (or the environment) name, then closes it: every
 * write is flushed and sealed (when this process has the signing key) before the command reports
 * success. The embedded database is locked while open, so a server holding it makes this refuse.
 */
export async function withCore<T>(io: CliIo, flags: StoreFlags & { policies?: readonly string[] | undefined }, fn: (core: Core) => Promise<T>): Promise<T> {
  const store = resolveStoreConfig(flags, io.env);
  const core = await createCore(
    { database: store.databaseUrl ? { url: store.databaseUrl } : { dataDir: store.dataDir }, policies: flags.policies ?? [], auditKeyFile: store.auditKeyFile, registryCacheMs: 0 },
    { logger: pino({ level: 'silent' }), env: io.env },
  );
  let result: T;
  try {
    result = await fn(core);
  } catch (err) {
    await core.close().catch(() => {});
    throw err;
  }
  // Closing flushes the writer: a write that cannot be made durable fails the command here.
  await core.close();
  return result;
}
