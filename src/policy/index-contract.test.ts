import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Action } from '../domain/index.js';
import { decide } from './evaluate.js';
import { loadPolicySources } from './load.js';
import { decideReference } from './reference.js';

// The indexed evaluator must agree with the naive reference on every action: the index may only
// skip rules that cannot match.
const SCOPES = ['acme', 'acme/a', 'acme/a/x', 'acme/a/x/p1', 'acme/b', 'acme/b/p2', 'beta', 'beta/q'];
// Mixed case too: tool globs fold case, so the index must file and find rules by the folded segment.
const TOOLS = ['shell.run', 'shell.exec', 'deploy.release', 'db.query', 'files.read', 'echo', 'deploy', 'x.y.exec', 'Shell.Run', 'DEPLOY', 'X.y.EXEC', 'Straße.x'];
const GLOBS = ['shell.*', '*.exec', 'deploy.*', 'deploy', 'db.query', '*', 'files.*', 'x.*.exec', '*e*', 'SHELL.*', 'Deploy', 'strasse.*'];
const CONDS = ['context.hour < 12', 'has(args.env) && args.env == "prod"', 'args.env == "prod"', 'tool.name.startsWith("d")', '"admin" in principal.roles'];

const rule = fc.record({
  effect: fc.constantFrom('allow', 'deny', 'require_approval'),
  tools: fc.option(fc.subarray(GLOBS, { minLength: 1, maxLength: 2 }), { nil: undefined }),
  actions: fc.option(fc.subarray(['tool.call', 'tool.list', 'resource.read'], { minLength: 1 }), { nil: undefined }),
  roles: fc.option(fc.subarray(['dev', 'admin'], { minLength: 1 }), { nil: undefined }),
  when: fc.option(fc.constantFrom(...CONDS), { nil: undefined }),
});
const pol = fc.record({
  scopes: fc.subarray(SCOPES, { minLength: 1, maxLength: 3 }),
  exclude: fc.option(fc.constantFrom('acme/a/x', 'acme/b/p2', 'beta/q'), { nil: undefined }),
  mode: fc.constantFrom('enforce', 'enforce', 'warn', 'disabled'),
  rules: fc.array(rule, { minLength: 1, maxLength: 4 }),
});
const action = fc.record({
  kind: fc.constantFrom('tool.call', 'tool.list', 'resource.read'),
  scope: fc.constantFrom(...SCOPES, 'acme/a/x/p1/deep', 'gamma'),
  tool: fc.constantFrom(...TOOLS),
  roles: fc.subarray(['dev', 'admin', 'ops']),
  env: fc.option(fc.constantFrom('prod', 'dev'), { nil: undefined }),
  hour: fc.integer({ min: 0, max: 23 }),
});

type GenPolicy = typeof pol extends fc.Arbitrary<infer T> ? T : never;

function yamlOf(policies: GenPolicy[], defaults: boolean): string {
  const docs = policies.map((p, i) => {
    const scopes = p.scopes.filter((s) => !p.exclude || !(s === p.exclude || s.startsWith(`${p.exclude}/`)));
    const scope = scopes.length > 0 ? scopes : ['acme'];
    const rules = p.rules.map((r, j) => {
      const match: string[] = [];
      if (r.tools) match.push(`tools: ${JSON.stringify(r.tools)}`);
      if (r.actions) match.push(`actions: [${r.actions.join(', ')}]`);
      if (r.roles) match.push(`roles: [${r.roles.join(', ')}]`);
      const approval = r.effect === 'require_approval' ? ', approval: { approvers: { roles: [admin] } }' : '';
      return `    - { name: r${j}, effect: ${r.effect}${match.length ? `, match: { ${match.join(', ')} }` : ''}${r.when ? `, when: ${JSON.stringify(r.when)}` : ''}${approval} }`;
    });
    const exclude = p.exclude && scope.some((s) => p.exclude!.startsWith(`${s}/`)) ? `, exclude: [${p.exclude}]` : '';
    return `apiVersion: warden.dev/v1\nkind: Policy\nmetadata: { name: p${i}, scope: [${scope.join(', ')}], mode: ${p.mode}${exclude} }\nspec:\n  rules:\n${rules.join('\n')}\n`;
  });
  if (defaults) docs.push('apiVersion: warden.dev/v1\nkind: ScopeSettings\nmetadata: { scope: acme/a }\nspec: { defaultEffect: allow }\n');
  return docs.join('---\n');
}

describe('indexed evaluator vs reference evaluator', () => {
  it('agree on random policy sets and actions', () => {
    fc.assert(
      fc.property(fc.array(pol, { minLength: 1, maxLength: 6 }), fc.boolean(), fc.array(action, { minLength: 1, maxLength: 10 }), (policies, defaults, actions) => {
        const r = loadPolicySources([{ file: 'gen.yaml', text: yamlOf(policies, defaults) }]);
        if (!r.set) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
        for (const a of actions) {
          const act: Action = {
            kind: a.kind as Action['kind'],
            scope: a.scope,
            tool: { server: a.tool.split('.')[0]!, name: a.tool },
            principal: { id: 'u', roles: a.roles },
            ...(a.env ? { args: { env: a.env } } : {}),
            context: { time: `2026-11-24T${String(a.hour).padStart(2, '0')}:00:00Z` },
          };
          expect(decide(r.set, act)).toEqual(decideReference(r.set, act));
        }
      }),
      { numRuns: 300 },
    );
  });
});
