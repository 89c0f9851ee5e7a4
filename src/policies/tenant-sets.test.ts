import { describe, expect, it } from 'vitest';
import { decide, loadPolicySources, type PolicySource } from '../policy/index.js';
import { createTenantPolicySets } from './tenant-sets.js';
import type { ActiveSource } from './records.js';
import { releaseOf } from './release.js';

const SETTINGS = 'apiVersion: warden.dev/v1\nkind: ScopeSettings\nmetadata: { scope: acme }\nspec: { defaultEffect: allow }\n';
const policy = (name: string, effect: string) =>
  `apiVersion: warden.dev/v1\nkind: Policy\nmetadata: { name: ${name}, scope: acme }\nspec:\n  rules:\n    - { name: r, match: { tools: ["shell.*"] }, effect: ${effect} }\n`;
const SHELL = { kind: 'tool.call', scope: 'acme/p', tool: { server: 's', name: 'shell.run' } } as const;
const quiet = { warn: () => {}, info: () => {} };

describe('tenant policy sets', () => {
  it('fail closed when a tenant has no good set to keep, and recover once the files stop colliding', async () => {
    // The files define `dup` (an allow) and so does the tenant's active managed policy (a deny).
    let files: PolicySource[] = [{ file: 'files/base.yaml', text: SETTINGS + '---\n' + policy('dup', 'allow') }];
    const listeners: (() => void)[] = [];
    const fileSet = () => loadPolicySources(files).set!;
    const active: ActiveSource[] = [{ tenantId: 't1', name: 'guard', number: 1, hash: 'sha256:x', path: 'guard.yaml', source: policy('dup', 'deny') }];
    const sets = await createTenantPolicySets({
      files: { current: fileSet, sources: () => files, onChange: (l) => void listeners.push(l) },
      repo: { activeSources: async (t) => active.filter((a) => t === undefined || a.tenantId === t), releases: async () => new Map([['t1', releaseOf(active)]]) },
      now: () => new Date('2026-12-07T12:00:00Z'),
      pollMs: 0,
      logger: quiet,
    });
    // The files alone would allow the shell: the tenant's own deny must not silently vanish.
    expect(decide(fileSet(), SHELL).effect).toBe('allow');
    const d = decide(sets.forTenant('t1'), SHELL);
    expect(d.effect).toBe('deny');
    expect(d.reasons[0]).toMatchObject({ policy: 'builtin', rule: 'default-deny' });
    expect(sets.status('t1').lastError?.messages.join(' ')).toContain('dup');
    // Another tenant, with nothing managed, is served by the files.
    expect(decide(sets.forTenant('t2'), SHELL).effect).toBe('allow');

    files = [{ file: 'files/base.yaml', text: SETTINGS }];
    for (const l of listeners) l();
    await sets.refresh('t1');
    const fixed = decide(sets.forTenant('t1'), SHELL);
    expect(fixed.effect).toBe('deny');
    expect(fixed.reasons[0]).toMatchObject({ policy: 'dup', rule: 'r' });
    expect(sets.status('t1').lastError).toBeUndefined();
    expect(decide(sets.forTenant('t1'), { ...SHELL, tool: { server: 's', name: 'files.read' } }).effect).toBe('allow');
    await sets.close();
  });
});
