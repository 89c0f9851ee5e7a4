import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAuditWriter } from '../src/audit/index.js';
import { isWardenError, newAuditEvent, WardenError } from '../src/domain/index.js';
import { lockDataDir, lockPathOf } from '../src/store/data-dir-lock.js';
import { createAuditRepo, migrate, openDatabase } from '../src/store/index.js';

const ROOT = resolve(import.meta.dirname, '..');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'warden-lock-'));
  dirs.push(dir);
  return join(dir, 'data');
}

async function refusal(p: Promise<unknown>): Promise<WardenError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isWardenError(err)) throw new Error(`expected a WardenError, got ${String(err)}`);
  return err;
}

/** The pid of a process that has exited, so no process with it exists (barring pid reuse). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

// A child that opens the directory, writes one audit event, says `ready <pid>` and waits.
const HOLDER = `
import { createAuditWriter } from ${JSON.stringify(join(ROOT, 'src/audit/index.ts'))};
import { newAuditEvent } from ${JSON.stringify(join(ROOT, 'src/domain/index.ts'))};
import { createAuditRepo, migrate, openDatabase } from ${JSON.stringify(join(ROOT, 'src/store/index.ts'))};
const database = await openDatabase({ dataDir: process.argv[2] });
await migrate(database.db);
const event = newAuditEvent({ scope: 'acme/x', category: 'admin', type: 'registry.tool.blocked', outcome: 'success', actor: { type: 'user', id: 'holder' } }, new Date());
await createAuditWriter({ store: createAuditRepo(database), clock: { now: () => new Date() } }).append([event]);
process.stdout.write('ready ' + event.id + '\\n');
setInterval(() => {}, 1000);
`;

async function startHolder(dataDir: string): Promise<{ child: ChildProcess; eventId: string }> {
  const script = join(resolve(dataDir, '..'), 'holder.mts');
  writeFileSync(script, HOLDER);
  const child = spawn(process.execPath, ['--import', 'tsx', script, dataDir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => void (err += d.toString()));
  const eventId = await new Promise<string>((ok, fail) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready (\S+)\n/.exec(out);
      if (m) ok(m[1]!);
    });
    child.once('exit', (code) => fail(new Error(`holder exited with ${code}: ${err}`)));
  });
  return { child, eventId };
}

describe('the embedded database lock', { timeout: 60_000 }, () => {
  it('refuses a second open in the same process, naming this pid, and opens again after close', async () => {
    const dataDir = tempDataDir();
    const first = await openDatabase({ dataDir });
    const err = await refusal(openDatabase({ dataDir }));
    expect(err.code).toBe('store.locked');
    expect(err.message).toContain(`pid ${process.pid}`);
    expect(err.message).toContain(`\`${dataDir}\``);
    expect(err.help).toContain('--database-url');
    expect(err.help).toContain('WARDEN_DATABASE_URL');
    const lock = JSON.parse(readFileSync(lockPathOf(dataDir), 'utf8')) as Record<string, unknown>;
    expect(lock).toMatchObject({ pid: process.pid, hostname: hostname() });
    expect(typeof lock.command).toBe('string');
    expect(Date.parse(String(lock.startedAt))).not.toBeNaN();

    await first.close();
    expect(existsSync(lockPathOf(dataDir))).toBe(false);
    const again = await openDatabase({ dataDir });
    await again.close();
  });

  it('refuses while another process holds the directory, takes over after it is killed with SIGKILL, and keeps its data', async () => {
    const dataDir = tempDataDir();
    const { child, eventId } = await startHolder(dataDir);
    try {
      const err = await refusal(openDatabase({ dataDir }));
      expect(err.code).toBe('store.locked');
      expect(err.message).toContain(`process ${child.pid} (\``);
      expect(err.message).toContain('holder.mts');
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    // kill -9 left the lock file behind; its holder is gone, so the next opener takes it over.
    expect(JSON.parse(readFileSync(lockPathOf(dataDir), 'utf8'))).toMatchObject({ pid: child.pid });
    const db = await openDatabase({ dataDir });
    try {
      expect(JSON.parse(readFileSync(lockPathOf(dataDir), 'utf8'))).toMatchObject({ pid: process.pid });
      await migrate(db.db);
      const { events } = await createAuditRepo(db).list({ limit: 10 });
      expect(events.map((e) => e.id)).toEqual([eventId]);
      await createAuditWriter({ store: createAuditRepo(db), clock: { now: () => new Date() } }).append([newAuditEvent({ scope: 'acme/x', category: 'admin', type: 'registry.tool.approved', outcome: 'success', actor: { type: 'user', id: 'me' } }, new Date())]);
    } finally {
      await db.close();
    }
    const reopened = await openDatabase({ dataDir });
    try {
      expect((await createAuditRepo(reopened).list({ limit: 10 })).events).toHaveLength(2);
    } finally {
      await reopened.close();
    }
  });

  it('lets exactly one of several racing openers take over a stale lock', async () => {
    const dataDir = tempDataDir();
    writeFileSync(lockPathOf(dataDir), JSON.stringify({ pid: deadPid(), command: 'node gone', hostname: hostname(), startedAt: new Date().toISOString() }));
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => lockDataDir(dataDir)));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as WardenError).code).toBe('store.locked');
    await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof lockDataDir>>>).value.release();
    expect(existsSync(lockPathOf(dataDir))).toBe(false);
  });

  it('respects a lock held on another host, and one still being written', async () => {
    const dataDir = tempDataDir();
    const path = lockPathOf(dataDir);
    writeFileSync(path, JSON.stringify({ pid: deadPid(), command: 'warden serve', hostname: 'elsewhere.example', startedAt: new Date().toISOString() }));
    const other = await refusal(lockDataDir(dataDir));
    expect(other.code).toBe('store.locked');
    expect(other.message).toContain('on host `elsewhere.example`');
    writeFileSync(path, '');
    expect((await refusal(lockDataDir(dataDir))).code).toBe('store.locked');
  });

  it('takes over a lock left with its own pid by an earlier process (a restarted container)', async () => {
    const dataDir = tempDataDir();
    writeFileSync(lockPathOf(dataDir), JSON.stringify({ pid: process.pid, command: 'warden serve', hostname: hostname(), startedAt: '2020-01-01T00:00:00.000Z' }));
    await (await lockDataDir(dataDir)).release();
  });

  it.skipIf(!existsSync('/proc/self/stat'))('takes over a lock whose live pid started later than its holder (a reused pid)', async () => {
    const dataDir = tempDataDir();
    const path = lockPathOf(dataDir);
    writeFileSync(path, JSON.stringify({ pid: process.ppid, command: 'warden serve', hostname: hostname(), startedAt: '2020-01-01T00:00:00.000Z', procStart: '1' }));
    const lock = await lockDataDir(dataDir);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ pid: process.pid });
    await lock.release();
  });

  it('takes no lock for an in-memory database', async () => {
    const a = await openDatabase({ memory: true });
    const b = await openDatabase({ memory: true });
    await Promise.all([a.close(), b.close()]);
  });
});

describe('a symlinked data directory', () => {
  it('opens, and holds the same lock as its target', async () => {
    const base = mkdtempSync(join(tmpdir(), 'warden-symlink-'));
    dirs.push(base);
    const real = join(base, 'real');
    const first = await openDatabase({ dataDir: real });
    symlinkSync(real, join(base, 'link'));
    await expect(openDatabase({ dataDir: join(base, 'link') })).rejects.toMatchObject({ code: 'store.locked' });
    await first.close();
    const viaLink = await openDatabase({ dataDir: join(base, 'link') });
    await viaLink.close();
  });
});
