import { mkdirSync, mkdtempSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openPolicies, PolicyLoadError, type PolicyWatcher } from '../src/config/index.js';
import { createServerApp, type Core } from '../src/main/index.js';
import { decide } from '../src/policy/index.js';
import { waitFor } from './support/wait-for.js';

const doc = (effect: string) => `apiVersion: warden.dev/v1
kind: Policy
metadata: { name: p, scope: acme }
spec:
  rules:
    - { name: r, effect: ${effect} }
`;
const logs: { level: string; msg: string; obj: object }[] = [];
const logger = { info: (obj: object, msg: string) => void logs.push({ level: 'info', msg, obj }), warn: (obj: object, msg: string) => void logs.push({ level: 'warn', msg, obj }) };
const action = { kind: 'tool.call' as const, scope: 'acme/x', tool: { server: 's', name: 't' } };

// The watcher reports a reload only through its status, so the tests poll that (file events come from the OS).
const until = (cond: () => boolean) => waitFor(cond, { what: 'the watcher' });

let watcher: PolicyWatcher | undefined;
afterEach(() => watcher?.close());

describe('policy reload', () => {
  it('swaps in a new set when a file changes, keeps the last good set on a broken edit, and recovers', async () => {
    const d = mkdtempSync(join(tmpdir(), 'warden-reload-'));
    const file = join(d, 'p.yaml');
    writeFileSync(file, doc('allow'));
    watcher = await openPolicies([d], { watch: true, logger, debounceMs: 20 });
    const v1 = watcher.status().version;
    expect(decide(watcher.current(), action).effect).toBe('allow');

    writeFileSync(file, doc('deny'));
    await until(() => watcher!.status().version !== v1);
    expect(decide(watcher.current(), action).effect).toBe('deny');
    const v2 = watcher.status().version;

    writeFileSync(file, doc('allow').replace('effect: allow', "effect: allow, when: 'args.x =='"));
    await until(() => watcher!.status().lastError !== undefined);
    expect(watcher.status().version).toBe(v2);
    expect(decide(watcher.current(), action).effect).toBe('deny');
    expect(watcher.status().lastError!.messages[0]).toMatch(/p\.yaml:6:\d+: error\[policy\.cel_compile\]/);
    expect(logs.some((l) => l.level === 'warn' && l.msg.includes('keeping the last good set'))).toBe(true);

    // An editor's atomic save: write a temp file, rename over the original.
    writeFileSync(join(d, '.p.yaml.tmp'), doc('allow'));
    renameSync(join(d, '.p.yaml.tmp'), file);
    await until(() => watcher!.status().lastError === undefined && watcher!.status().version !== v2);
    expect(decide(watcher.current(), action).effect).toBe('allow');
  });

  it('picks up a new file in a watched directory', async () => {
    const d = mkdtempSync(join(tmpdir(), 'warden-reload-'));
    writeFileSync(join(d, 'a.yaml'), doc('allow'));
    watcher = await openPolicies([d], { watch: true, logger, debounceMs: 20 });
    writeFileSync(join(d, 'b.yaml'), doc('deny').replace('name: p', 'name: q'));
    await until(() => watcher!.current().policies.length === 2);
    expect(decide(watcher.current(), action).effect).toBe('deny');
  });

  it('refuses to start on a broken set, naming every error', async () => {
    const d = mkdtempSync(join(tmpdir(), 'warden-reload-'));
    writeFileSync(join(d, 'p.yaml'), doc('maybe'));
    const err = await openPolicies([d], { watch: false, logger }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyLoadError);
    expect((err as PolicyLoadError).message).toMatch(/p\.yaml:6:\d+: error\[policy\.schema\]/);
  });
});

// Each way a file gets written, one after another on the same watcher: the set must follow every
// step, and never stay on an old version with `lastError` empty (what a lost watch looked like).
describe('policy reload sees every kind of save', () => {
  const versioned = (effect: string, n: number) => doc(effect).replace('scope: acme', `scope: acme, version: ${n}`);
  let n = 1;
  /** Runs one save and waits for the set to follow it; `n` makes every save's text different. */
  async function saved(w: PolicyWatcher, save: (text: string) => void, effect: string): Promise<void> {
    const before = w.status().version;
    save(versioned(effect, ++n));
    await until(() => w.status().version !== before);
    expect(w.status().lastError).toBeUndefined();
    expect(decide(w.current(), action).effect).toBe(effect);
  }
  const renameSave = (file: string) => (text: string) => {
    // What sed -i, vim and most editors do: write a temporary file beside it, rename it over.
    const tmp = `${file}.swp${n}`;
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  };
  const inPlace = (file: string) => (text: string) => writeFileSync(file, text);

  for (const given of ['directory', 'file'] as const) {
    it(`follows rename-saves, in-place edits, truncation, deletion and re-creation when --policies is a ${given}`, async () => {
      const d = mkdtempSync(join(tmpdir(), 'warden-reload-'));
      const file = join(d, 'p.yaml');
      writeFileSync(file, versioned('allow', n));
      // The poll is off: only directory events may carry these changes.
      watcher = await openPolicies([given === 'directory' ? d : file], { watch: true, logger, debounceMs: 20, pollMs: 0 });
      const w = watcher;

      for (let i = 0; i < 4; i++) await saved(w, renameSave(file), i % 2 ? 'allow' : 'deny');
      await saved(w, inPlace(file), 'allow');
      await saved(w, renameSave(file), 'deny');
      await saved(w, inPlace(file), 'allow');

      // Truncation: an empty file holds no policy; the default (deny) applies, or for a file path nothing is left to load.
      const v = w.status().version;
      truncateSync(file, 0);
      await until(() => w.status().version !== v);
      expect(w.current().policies).toEqual([]);

      await saved(w, inPlace(file), 'allow');
      const kept = w.status().version;
      unlinkSync(file);
      if (given === 'directory') {
        await until(() => w.status().version !== kept);
        expect(w.current().policies).toEqual([]);
      } else {
        // A named file that vanished is an error to report; the last good set stays in force.
        await until(() => w.status().lastError !== undefined);
        expect(w.status().lastError!.messages[0]).toMatch(/p\.yaml` does not exist/);
        expect(w.status().version).toBe(kept);
      }
      await saved(w, inPlace(file), 'deny');
      await saved(w, renameSave(file), 'allow');
    });
  }

  it('watches a subdirectory created after start, and a directory replaced whole', async () => {
    const root = mkdtempSync(join(tmpdir(), 'warden-reload-'));
    const d = join(root, 'policies');
    mkdirSync(d);
    writeFileSync(join(d, 'p.yaml'), versioned('allow', n));
    watcher = await openPolicies([d], { watch: true, logger, debounceMs: 20, pollMs: 0 });
    const w = watcher;
    mkdirSync(join(d, 'team'));
    const sub = join(d, 'team', 'q.yaml');
    await saved(w, (t) => writeFileSync(sub, t.replace('name: p', 'name: q')), 'deny');
    await saved(w, (t) => renameSave(sub)(t.replace('name: p', 'name: q')), 'deny');
    await saved(w, (t) => writeFileSync(sub, t.replace('name: p', 'name: q').replace('effect: allow', 'effect: deny')), 'deny');

    // `git checkout` of a whole tree, or a deploy swapping the directory: no event reaches the old
    // directory's watch. The poll (here called directly) reads the new one and watches it.
    const next = join(root, 'next');
    mkdirSync(next);
    writeFileSync(join(next, 'p.yaml'), versioned('allow', ++n));
    rmSync(d, { recursive: true });
    renameSync(next, d);
    expect(await w.reload()).toBe(true);
    expect(decide(w.current(), action).effect).toBe('allow');
    await saved(w, inPlace(join(d, 'p.yaml')), 'deny');
  });

  it('polls as a backstop for changes no event reports', async () => {
    const root = mkdtempSync(join(tmpdir(), 'warden-reload-'));
    const d = join(root, 'policies');
    mkdirSync(d);
    writeFileSync(join(d, 'p.yaml'), versioned('allow', n));
    watcher = await openPolicies([d], { watch: true, logger, debounceMs: 20, pollMs: 30 });
    const next = join(root, 'next');
    mkdirSync(next);
    await saved(
      watcher,
      (t) => {
        writeFileSync(join(next, 'p.yaml'), t);
        rmSync(d, { recursive: true });
        renameSync(next, d);
      },
      'deny',
    );
  });

  it('does not compile again when the files did not change', async () => {
    const d = mkdtempSync(join(tmpdir(), 'warden-reload-'));
    writeFileSync(join(d, 'p.yaml'), versioned('allow', n));
    watcher = await openPolicies([d], { watch: false, logger });
    const { version, loadedAt } = watcher.status();
    expect(await watcher.reload()).toBe(false);
    expect(watcher.status()).toMatchObject({ version, loadedAt, lastError: undefined });
  });
});

describe('/readyz', () => {
  it('reports the hash of the policy set in force and when it was loaded, and follows a rename-save', async () => {
    const d = mkdtempSync(join(tmpdir(), 'warden-reload-'));
    const file = join(d, 'p.yaml');
    writeFileSync(file, doc('allow'));
    watcher = await openPolicies([d], { watch: true, logger, debounceMs: 20, pollMs: 0 });
    // The readiness route over the watcher; the rest of the core is not needed for it.
    const core = { policies: watcher, ping: async () => {}, database: { dialect: 'pglite' } } as unknown as Core;
    const app = createServerApp(core);
    try {
      const ready = async () => (await app.inject({ url: '/readyz' })).json().checks.policies as { ok: boolean; version: string; loadedAt: string };
      const first = await ready();
      expect(first).toMatchObject({ ok: true, version: watcher.status().version, loadedAt: watcher.status().loadedAt });
      expect(first.version).toMatch(/^[0-9a-f]{16}$/);
      writeFileSync(`${file}.tmp`, doc('deny'));
      renameSync(`${file}.tmp`, file);
      const next = await waitFor(async () => {
        const r = await ready();
        return r.version !== first.version && r;
      }, { what: '/readyz to show the new set' });
      expect(Date.parse(next.loadedAt)).toBeGreaterThanOrEqual(Date.parse(first.loadedAt));
    } finally {
      await app.close();
    }
  });
});
