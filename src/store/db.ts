import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, realpath } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { WardenError } from '../domain/errors.js';
import { lockDataDir, type DataDirLock } from './data-dir-lock.js';
import { createPgliteDialect } from './pglite-dialect.js';
import type { Schema } from './schema.js';

/** Where the database lives. `url` wins over `memory`, which wins over `dataDir`. */
export interface OpenDatabaseOptions {
  /**
   * Directory of the embedded (PGlite) database; created when missing. One process at a time opens
   * it: the lock file `<dataDir>.lock` names the holder, and `close()` removes it.
   */
  dataDir?: string;
  /** PostgreSQL connection URL; when set, PostgreSQL is used instead of PGlite. */
  url?: string;
  /** An embedded database that lives only in memory (tests). @default false */
  memory?: boolean;
}

/** An open database and the engine behind it. */
export interface Database {
  db: Kysely<Schema>;
  dialect: 'pglite' | 'postgres';
  /** PostgreSQL's connection pool, for what Kysely cannot say (the audit log's COPY); absent on PGlite. */
  pool?: pg.Pool;
  /**
   * Closes every connection (or the embedded instance) and releases the data directory's lock, even
   * when closing fails; the database is unusable afterwards.
   */
  close(): Promise<void>;
}

// Long enough for a server across a network, short enough that a firewalled port fails the start.
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * PGlite's start parameters: its defaults, with PostgreSQL's buffer cache at 16 MB instead of the
 * 128 MB initdb writes into postgresql.conf (a command-line setting overrides the file). The cache
 * lives in PGlite's WebAssembly memory, which never shrinks, and PGlite touches nearly all of it at
 * start: an open database took 281 MB resident with 128 MB, 164 MB with 16 MB. The store's working
 * set (the audit log's tail, the registry, tokens) fits; what falls out is read back through the
 * OS page cache. Durability is untouched: this sizes a cache, not when writes reach the disk.
 */
const PGLITE_START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];

/**
 * Creates a new embedded database in `dataDir` from a child process. PGlite's initdb runs two
 * WebAssembly instances besides the one that serves, and their memory stays resident after they
 * close (V8 keeps some, the C allocator the rest): made in this process, a new data directory left
 * it 584 MB resident against 339 MB for the same directory reopened. A child gives it all back when
 * it exits. It exits too when its stdin closes, so it does not outlive a parent killed mid-way.
 */
async function initializePglite(dataDir: string): Promise<void> {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const script = [
    "process.stdin.on('end', () => process.exit(70)).resume();",
    'const { PGlite } = require(process.argv[1]);',
    'PGlite.create({ dataDir: process.argv[2], startParams: JSON.parse(process.argv[3]) })',
    '  .then((pg) => pg.close())',
    // Emscripten's file system throws `ErrnoError`s, which are not `Error`s (see `reasonOf`).
    "  .then(() => process.exit(0), (err) => { process.stderr.write(err?.message || (err?.errno !== undefined ? `file system error (errno ${err.errno})` : String(err))); process.exit(1); });",
  ].join('\n');
  const child = spawn(process.execPath, ['-e', script, entry, dataDir, JSON.stringify(PGLITE_START_PARAMS)], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => void (stderr = (stderr + b.toString()).slice(-2000)));
  const code = await new Promise<number | null>((done, fail) => {
    child.once('error', fail);
    child.once('close', (c) => done(c));
  });
  if (code !== 0) throw new Error(`creating the database failed${stderr.trim() ? `: ${stderr.trim()}` : ` (exit code ${String(code)})`}`);
}

/**
 * Opens PostgreSQL when `url` is set, otherwise the embedded PGlite database, and checks that it
 * answers. Does not run migrations (see `migrate`).
 *
 * An on-disk embedded database is locked for the process that opens it. A second opener, in this
 * process or another, is refused, whether it means to write or only to read: PGlite runs PostgreSQL
 * in single-user mode with no read-only mode, and opening a directory replays and checkpoints its
 * WAL, so a reader would both write to the files another process is using and see a stale snapshot
 * of them. Processes that must share one database use PostgreSQL. In-memory databases and
 * PostgreSQL take no lock.
 * @throws WardenError `store.locked` when another process (or this one) holds the data directory.
 * @throws WardenError `store.unavailable` when the database cannot be reached or opened.
 */
export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  if (opts.url !== undefined) return openPostgres(opts.url);
  if (opts.memory) return openPglite(undefined);
  if (opts.dataDir !== undefined) return openPglite(resolve(opts.dataDir));
  throw new WardenError('config.invalid', 'no database is configured', {
    help: 'set a data directory for the embedded database or `WARDEN_DATABASE_URL` for PostgreSQL',
  });
}

async function openPostgres(url: string): Promise<Database> {
  const shown = describeUrl(url);
  let pool: pg.Pool | undefined;
  try {
    pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    // An idle client that loses its server emits 'error' on the pool, which would crash the process
    // when unhandled; the pool drops that client and the next query reports the problem.
    pool.on('error', () => {});
    await pool.query('select 1');
  } catch (err) {
    await pool?.end().catch(() => {});
    throw new WardenError('store.unavailable', `cannot connect to PostgreSQL at \`${shown}\`: ${reasonOf(err)}`, {
      help: 'check that the server is running and reachable, and that `WARDEN_DATABASE_URL` names the right host, port, database and credentials',
      cause: err,
    });
  }
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect: 'postgres', pool, close: () => db.destroy() };
}

async function openPglite(dataDir: string | undefined): Promise<Database> {
  let lock: DataDirLock | undefined;
  let client: PGlite;
  try {
    if (dataDir !== undefined) {
      await mkdir(dataDir, { recursive: true });
      // A symlink and its target are one database: lock and open the real path (PGlite cannot open a symlink).
      dataDir = await realpath(dataDir);
      lock = await lockDataDir(dataDir);
      if (!existsSync(join(dataDir, 'PG_VERSION'))) await initializePglite(dataDir);
    }
    client = await PGlite.create({ ...(dataDir === undefined ? {} : { dataDir }), startParams: PGLITE_START_PARAMS });
  } catch (err) {
    await lock?.release().catch(() => {});
    if (err instanceof WardenError) throw err;
    const where = dataDir === undefined ? 'in memory' : `in \`${dataDir}\``;
    throw new WardenError('store.unavailable', `cannot open the embedded database ${where}: ${reasonOf(err)}`, {
      help: 'check that the data directory is writable',
      cause: err,
    });
  }
  const db = new Kysely<Schema>({ dialect: createPgliteDialect(client) });
  const close = async () => {
    try {
      await db.destroy();
    } finally {
      await lock?.release();
    }
  };
  return { db, dialect: 'pglite', close };
}

/** The URL with its password (and any password parameter) removed, safe to print. */
function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    for (const key of [...parsed.searchParams.keys()]) {
      if (/pass/i.test(key)) parsed.searchParams.delete(key);
    }
    return parsed.toString();
  } catch {
    // Not a URL (a keyword/value string, say): it may hold a password anywhere, so show none of it.
    return 'the configured database url';
  }
}

/** A one-line reason; Node reports a refused dual-stack connect as an AggregateError with no message. */
function reasonOf(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return reasonOf(err.errors[0]);
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const text = err.message || (typeof code === 'string' ? code : err.name);
    return text.replace(/\s+/g, ' ').trim();
  }
  // PGlite's file system throws Emscripten `ErrnoError`s, which are not `Error`s.
  if (typeof err === 'object' && err !== null) {
    const e = err as { message?: unknown; errno?: unknown };
    if (typeof e.message === 'string' && e.message !== '') return e.message;
    if (e.errno !== undefined) return `file system error (errno ${String(e.errno)})`;
  }
  return String(err);
}
