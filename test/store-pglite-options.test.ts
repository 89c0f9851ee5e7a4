import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { isWardenError } from '../src/domain/index.js';
import { lockPathOf } from '../src/store/data-dir-lock.js';
import { migrate, openDatabase, type Database } from '../src/store/index.js';

// The embedded database runs with a 16 MB buffer cache (its WebAssembly memory never shrinks), and a
// new data directory is created by a child process so initdb's memory is given back.

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'warden-pglite-'));
  dirs.push(d);
  return d;
};
const sharedBuffers = async (database: Database) => (await sql<{ shared_buffers: string }>`show shared_buffers`.execute(database.db)).rows[0]?.shared_buffers;

describe('the embedded database', { timeout: 120_000 }, () => {
  it('creates a new data directory, keeps what it holds, and runs with a 16 MB buffer cache on it, reopened, and in memory', async () => {
    const dataDir = join(tempDir(), 'data');
    const first = await openDatabase({ dataDir });
    try {
      expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);
      expect(await sharedBuffers(first)).toBe('16MB');
      await migrate(first.db);
      await sql`create table kept (v text)`.execute(first.db);
      await sql`insert into kept values ('here')`.execute(first.db);
    } finally {
      await first.close();
    }
    const second = await openDatabase({ dataDir });
    try {
      // initdb wrote 128 MB into postgresql.conf; the start parameter wins on every open.
      expect(await sharedBuffers(second)).toBe('16MB');
      expect((await sql<{ v: string }>`select v from kept`.execute(second.db)).rows).toEqual([{ v: 'here' }]);
    } finally {
      await second.close();
    }
    const memory = await openDatabase({ memory: true });
    try {
      expect(await sharedBuffers(memory)).toBe('16MB');
    } finally {
      await memory.close();
    }
  });

  it('reports a directory the database cannot be created in as store.unavailable with the reason, and releases its lock', async () => {
    const dataDir = join(tempDir(), 'data');
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, 'global'), 'not a directory'); // initdb must make `global/`
    const err = await openDatabase({ dataDir }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isWardenError(err) && err.code).toBe('store.unavailable');
    expect((err as Error).message).toMatch(/^cannot open the embedded database in `.*`: creating the database failed: \S/);
    expect(existsSync(lockPathOf(dataDir)), 'the lock outlived the failed open').toBe(false);
  });
});
