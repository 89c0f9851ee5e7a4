import type { Command } from 'commander';
import { createAuditRepo, migrate, openDatabase, type AuditRepo, type Database } from '../store/index.js';

/** The flags every command that reads the store takes, like `warden serve`. */
export interface StoreFlags {
  dataDir?: string;
  databaseUrl?: string;
}

/** Adds `--data-dir` and `--database-url` to a command. */
export function withStoreOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'embedded database directory (env WARDEN_DATA_DIR)')
    .option('--database-url <url>', 'PostgreSQL URL (env WARDEN_DATABASE_URL)');
}

/** Opens and migrates the store the flags (or the environment) name; the caller closes it. */
export async function openStore(flags: StoreFlags, env: Readonly<Record<string, string | undefined>>): Promise<{ database: Database; repo: AuditRepo }> {
  const url = flags.databaseUrl ?? env.WARDEN_DATABASE_URL;
  const database = await openDatabase(url ? { url } : { dataDir: flags.dataDir ?? env.WARDEN_DATA_DIR ?? '.warden/data' });
  try {
    await migrate(database.db);
  } catch (err) {
    await database.close();
    throw err;
  }
  return { database, repo: createAuditRepo(database.db) };
}
