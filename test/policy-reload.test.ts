import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openPolicies, PolicyLoadError, type PolicyWatcher } from '../src/config/index.js';
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
