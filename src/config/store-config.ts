import { WardenError } from '../domain/index.js';
import { resolveSetting, SERVE_SETTINGS } from './settings.js';
import type { WardenSpec } from './warden-file.js';

/** The embedded database's directory when none is given. */
export const DEFAULT_DATA_DIR = '.warden/data';

/** Where a command's store and signing key are, resolved once from flags over environment over defaults. */
export interface StoreConfig {
  /** PostgreSQL URL; when set, the embedded database is not used. */
  databaseUrl?: string;
  /** The embedded (PGlite) database directory. @default .warden/data */
  dataDir: string;
  /** Ed25519 key that signs audit checkpoints. @default `<dataDir>.audit-key.pem` */
  auditKeyFile: string;
}

/** The store flags every command that opens the store takes (`--data-dir`, `--database-url`, `--audit-key`). */
export interface StoreFlags {
  dataDir?: string | undefined;
  databaseUrl?: string | undefined;
  auditKey?: string | undefined;
}

/** Resolves the store's location and key path (flag > environment > file > default); the only place their defaults are. */
export function resolveStoreConfig(flags: StoreFlags, env: Readonly<Record<string, string | undefined>>, file?: WardenSpec): StoreConfig {
  const inputs = { flags: flags as Record<string, unknown>, env, file };
  const dataDir = (resolveSetting('dataDir', SERVE_SETTINGS.dataDir, inputs)?.value as string | undefined) ?? DEFAULT_DATA_DIR;
  const databaseUrl = resolveSetting('databaseUrl', SERVE_SETTINGS.databaseUrl, inputs)?.value as string | undefined;
  if (databaseUrl !== undefined && databaseUrl !== '' && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new WardenError('config.invalid', 'the database url is not a `postgres://` URL', { help: 'pass --database-url postgres://user@host:5432/db or set WARDEN_DATABASE_URL' });
  }
  return {
    dataDir,
    ...(databaseUrl ? { databaseUrl } : {}),
    auditKeyFile: (resolveSetting('auditKey', SERVE_SETTINGS.auditKey, inputs)?.value as string | undefined) ?? `${dataDir.replace(/\/+$/, '')}.audit-key.pem`,
  };
}
