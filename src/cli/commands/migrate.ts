import type { Command } from 'commander';
import { configFileOf, loadConfigFile, resolveStoreConfig } from '../../config/index.js';
import { migrateDatabase } from '../../main/migrate-database.js';
import { givenOptions } from '../given-options.js';
import { EXIT, type CliIo } from '../io.js';
import { withStoreOptions } from '../with-core.js';
import { formatOf, withFormatOption } from './format.js';

/** `warden migrate`: bring the database schema up to date, then exit (servers and gateways also do it at start). */
export function registerMigrate(program: Command, io: CliIo, done: (code: number) => void): Command {
  const cmd = withFormatOption(
    withStoreOptions(program.command('migrate').description('apply pending database migrations and exit (serve and gateway also apply them at start)')).option(
      '--config <file>',
      'warden.yaml to take the database from (env WARDEN_CONFIG)',
    ),
  );
  return cmd.action(async (_opts: unknown, c: Command) => {
    const flags = givenOptions(c);
    const format = formatOf(flags as { format?: string; json?: boolean });
    const configFile = configFileOf(flags.config as string | undefined, io.env);
    const store = resolveStoreConfig(flags, io.env, configFile ? await loadConfigFile(configFile) : undefined);
    const r = await migrateDatabase(store.databaseUrl ? { url: store.databaseUrl } : { dataDir: store.dataDir });
    if (format === 'json') io.stdout(`${JSON.stringify({ dialect: r.dialect, applied: r.applied })}\n`);
    else io.stdout(r.applied.length === 0 ? `the ${r.dialect} schema is up to date\n` : `applied ${r.applied.length} migration(s) on ${r.dialect}: ${r.applied.join(', ')}\n`);
    done(EXIT.ok);
  });
}
