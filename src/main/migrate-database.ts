import { migrate, openDatabase, type MigrateResult, type OpenDatabaseOptions } from '../store/index.js';

/**
 * Applies the pending database migrations and closes the database: `warden migrate`, for deployments
 * that migrate in a step of their own before starting new replicas (servers also migrate at start).
 */
export async function migrateDatabase(database: OpenDatabaseOptions): Promise<MigrateResult & { dialect: 'pglite' | 'postgres' }> {
  const opened = await openDatabase(database);
  try {
    return { ...(await migrate(opened.db)), dialect: opened.dialect };
  } finally {
    await opened.close();
  }
}
