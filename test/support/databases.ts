import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate, openDatabase, type Database } from '../../src/store/index.js';

/** The PostgreSQL the suites use; each run creates and drops databases of its own there. */
export const ADMIN_URL = process.env.WARDEN_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Runs one statement on the admin database. */
export async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Why PostgreSQL cannot be used, or undefined when it can. */
export async function postgresProblem(): Promise<string | undefined> {
  try {
    await admin('SELECT 1');
    return undefined;
  } catch (err) {
    return `PostgreSQL is not reachable at ${ADMIN_URL}: ${err instanceof Error ? err.message || String(err) : String(err)}`;
  }
}

/** A fresh, migrated database of one dialect, and how to get rid of it. */
export interface FreshDatabase {
  database: Database;
  /** A URL a child process can open (postgres), or the data dir (pglite on disk). */
  url?: string;
  dispose(): Promise<void>;
}

/** A new uniquely named PostgreSQL database, migrated. */
export async function freshPostgres(): Promise<FreshDatabase> {
  const name = `warden_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const database = await openDatabase({ url: url.toString() });
  await migrate(database.db);
  return {
    database,
    url: url.toString(),
    async dispose() {
      await database.close();
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** A new in-memory PGlite database, migrated. */
export async function freshPglite(): Promise<FreshDatabase> {
  const database = await openDatabase({ memory: true });
  await migrate(database.db);
  return { database, dispose: () => database.close() };
}

/** Both dialects; postgres is left out (with a printed reason) when unreachable outside CI. */
export async function dialects(): Promise<{ name: 'pglite' | 'postgres'; fresh: () => Promise<FreshDatabase> }[]> {
  const problem = await postgresProblem();
  if (problem && process.env.CI) throw new Error(`PostgreSQL is required when CI is set: ${problem}`);
  if (problem) console.warn(`skipping PostgreSQL: ${problem}`);
  return [{ name: 'pglite', fresh: freshPglite }, ...(problem ? [] : [{ name: 'postgres' as const, fresh: freshPostgres }])];
}
