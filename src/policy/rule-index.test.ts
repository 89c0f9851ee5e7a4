import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACTION_KINDS, type Action, type ActionKind } from '../domain/index.js';
import { compileGlobs, foldCase } from '../domain/glob.js';
import type { CompiledRule, PolicySet } from './compiled.js';
import { decide, matchesStatically } from './evaluate.js';
import { loadPolicySources } from './load.js';
import { decideReference } from './reference.js';
import { globKey } from './rule-index.js';
import { isUnder } from './scope-path.js';

// The index against a brute-force scan of every rule: what it returns must hold every rule that
// matches (scope, kind, tool, roles, and all the rest), never a rule whose scopes miss the action,
// and each rule once.
const SCOPES = ['acme', 'acme/a', 'acme/a/x', 'acme/a/x/p1', 'acme/b', 'acme/b/p2', 'beta', 'beta/q'];
const ACTION_SCOPES = [...SCOPES, 'acme/a/x/p1/deep/er', 'acme/ab', 'gamma', 'acme/a/x/p10'];
// Letters that fold unusually (ß and ẞ to ss, the Kelvin sign to k, final sigma), dots and stars.
const GLOB_CHARS = ['a', 'b', 's', 'S', 'ß', 'ẞ', 'k', '\u212a', 'ς', 'Σ', '.', '.', '*', '*'];
const NAME_CHARS = ['a', 'b', 's', 'S', 'ß', 'ẞ', 'k', 'K', '\u212a', 'σ', 'ς', '.', 'x'];
const FIXED_GLOBS = ['*', '**', 'ab.*', '*.ab', '*.a*', 'a*b', 'SS.*', 'ß*', 'k*', 'ab', 'a.b.*.k', '*s', 'x', '*ẞ*', '**.b**', '*\u212a*', '*a*b*'];
// More than 30 roles, so some share the overflow bit.
const ROLES = Array.from({ length: 36 }, (_, i) => `role-${i}`);
const KINDS = ['tool.call', 'tool.list', 'resource.read'] as const;

const glob = fc.oneof(fc.constantFrom(...FIXED_GLOBS), fc.array(fc.constantFrom(...GLOB_CHARS), { minLength: 1, maxLength: 6 }).map((cs) => cs.join('')));
const toolName = fc.oneof(
  fc.constantFrom('ab.x', 'AB.X', 'ss.k', 'SS.K', 'ß.\u212a', 'x', 'a.b.x.k', 'b.ab', 'ab'),
  fc.array(fc.constantFrom(...NAME_CHARS), { minLength: 1, maxLength: 7 }).map((cs) => cs.join('')),
);

const rule = fc.record({
  effect: fc.constantFrom('allow', 'deny', 'require_approval'),
  tools: fc.option(fc.array(glob, { minLength: 1, maxLength: 3 }), { nil: undefined }),
  actions: fc.option(fc.subarray([...KINDS], { minLength: 1 }), { nil: undefined }),
  roles: fc.option(fc.subarray(ROLES, { minLength: 1, maxLength: 3 }), { nil: undefined }),
  servers: fc.option(fc.constant(['srv*']), { nil: undefined }),
  when: fc.option(fc.constantFrom('context.hour < 12', 'args.env == "prod"'), { nil: undefined }),
});
const pol = fc.record({
  scopes: fc.subarray(SCOPES, { minLength: 1, maxLength: 3 }),
  exclude: fc.option(fc.constantFrom('acme/a/x', 'acme/b/p2', 'beta/q'), { nil: undefined }),
  mode: fc.constantFrom('enforce', 'warn', 'disabled'),
  rules: fc.array(rule, { minLength: 1, maxLength: 5 }),
});
const action = fc.record({
  kind: fc.constantFrom<ActionKind | 'no.such.kind'>(...KINDS, 'prompt.get', 'no.such.kind'),
  scope: fc.constantFrom(...ACTION_SCOPES),
  tool: fc.option(fc.record({ name: toolName, server: fc.constantFrom('srv1', 'other') }), { nil: undefined }),
  principal: fc.option(fc.record({ roles: fc.subarray([...ROLES, 'unknown-role'], { maxLength: 4 }) }), { nil: undefined }),
  env: fc.option(fc.constantFrom('prod', 'dev'), { nil: undefined }),
});

type GenPolicy = typeof pol extends fc.Arbitrary<infer T> ? T : never;
type GenAction = typeof action extends fc.Arbitrary<infer T> ? T : never;

/** The policies as JSON documents (JSON is YAML), so any glob text survives unquoted-string rules. */
function sourceOf(policies: readonly GenPolicy[]): string {
  return policies
    .map((p, i) => {
      const scopes = p.scopes.filter((s) => !p.exclude || !isUnder(s, p.exclude));
      const scope = scopes.length > 0 ? scopes : ['acme'];
      const exclude = p.exclude && scope.some((s) => isUnder(p.exclude!, s) && s !== p.exclude) ? [p.exclude] : undefined;
      const rules = p.rules.map((r, j) => {
        const match = { ...(r.tools ? { tools: r.tools } : {}), ...(r.actions ? { actions: r.actions } : {}), ...(r.roles ? { roles: r.roles } : {}), ...(r.servers ? { servers: r.servers } : {}) };
        return {
          name: `r${j}`,
          effect: r.effect,
          ...(Object.keys(match).length > 0 ? { match } : {}),
          ...(r.when ? { when: r.when } : {}),
          ...(r.effect === 'require_approval' ? { approval: { approvers: { roles: ['admin'] } } } : {}),
        };
      });
      const metadata = { name: `p${i}`, scope, mode: p.mode, ...(exclude ? { exclude } : {}) };
      return JSON.stringify({ apiVersion: 'warden.dev/v1', kind: 'Policy', metadata, spec: { rules } });
    })
    .join('\n---\n');
}

// Filed first, so it takes the 30 role bits in a scrambled order and leaves `role-0`…`role-4` and
// `role-35` to share the overflow bit.
const BIT_HOG: GenPolicy = {
  scopes: ['nowhere'],
  exclude: undefined,
  mode: 'warn',
  rules: [{ effect: 'deny', tools: undefined, actions: undefined, roles: [...ROLES.slice(5)].reverse(), servers: undefined, when: undefined }],
};

function load(policies: readonly GenPolicy[]): PolicySet {
  const r = loadPolicySources([{ file: 'gen.yaml', text: sourceOf([BIT_HOG, ...policies]) }]);
  if (!r.set) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.set;
}

function toAction(a: GenAction): Action {
  return {
    kind: a.kind as ActionKind,
    scope: a.scope,
    ...(a.tool ? { tool: a.tool } : {}),
    ...(a.principal ? { principal: { id: 'u', roles: a.principal.roles } } : {}),
    ...(a.env ? { args: { env: a.env } } : {}),
    context: { time: '2026-11-24T09:00:00Z' },
  };
}

const covers = (r: CompiledRule, scope: string) => r.scopes.some((s) => isUnder(scope, s));

describe('rule index', () => {
  it('returns every rule that matches, only rules whose scopes cover the action, each once; `matches` exactly those', () => {
    fc.assert(
      fc.property(fc.array(pol, { minLength: 1, maxLength: 8 }), fc.array(action, { minLength: 1, maxLength: 12 }), (policies, actions) => {
        const set = load(policies);
        for (const a of actions.map(toAction)) {
          const got = set.index.candidates(a);
          const ids = got.map((r) => r.id);
          expect(new Set(ids).size).toBe(ids.length);
          for (const r of got) expect(covers(r, a.scope)).toBe(true);
          const needed = set.rules.filter((r) => covers(r, a.scope) && matchesStatically(r, a)).map((r) => r.id);
          expect(ids).toEqual(expect.arrayContaining(needed));
          // `matches` is exactly the static matches, in id order.
          expect(set.index.matches(a).map((r) => r.id)).toEqual(needed);
          expect(decide(set, a)).toEqual(decideReference(set, a));
        }
      }),
      { numRuns: 400 },
    );
  });

  it('folds a tool name once with the same result as the folding matcher', () => {
    fc.assert(
      fc.property(fc.array(pol, { minLength: 1, maxLength: 4 }), fc.array(toolName, { minLength: 1, maxLength: 10 }), (policies, names) => {
        for (const r of load(policies).rules) {
          if (!r.tools) continue;
          const reference = compileGlobs(r.toolGlobs!, { foldCase: true });
          for (const n of names) {
            expect(r.toolsFolded!(foldCase(n))).toBe(reference(n));
            expect(r.tools(n)).toBe(reference(n));
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('lists the rules in force on a scope\'s ancestry, in id order', () => {
    fc.assert(
      fc.property(fc.array(pol, { minLength: 1, maxLength: 8 }), fc.constantFrom(...ACTION_SCOPES), (policies, scope) => {
        const set = load(policies);
        expect(set.index.inScope(scope).map((r) => r.id)).toEqual(set.rules.filter((r) => covers(r, scope)).map((r) => r.id));
      }),
      { numRuns: 200 },
    );
  });

  it('keys a glob by its folded literal ends', () => {
    expect(globKey('Deploy.Release')).toEqual({ kind: 'exact', text: 'deploy.release' });
    expect(globKey('SHELL.*')).toEqual({ kind: 'prefix', text: 'shell.' });
    expect(globKey('*.EXEC')).toEqual({ kind: 'suffix', text: '.exec' });
    expect(globKey('*.READ*')).toEqual({ kind: 'infix', text: '.read' });
    expect(globKey('**ß**')).toEqual({ kind: 'infix', text: 'ss' });
    expect(globKey('*a*b*')).toEqual({ kind: 'residual', text: '' });
    expect(globKey('*')).toEqual({ kind: 'residual', text: '' });
    expect(globKey('Straße*')).toEqual({ kind: 'prefix', text: 'strasse' });
  });

  it('matches infix globs exactly past the number of infix keys it keeps', () => {
    // Each rule its own infix: past the 64th, rules share the residual key and get the full check.
    const infixes = Array.from({ length: 80 }, (_, i) => `n${i}.`);
    const set = load(infixes.map((t) => ({ scopes: ['acme'], exclude: undefined, mode: 'enforce', rules: [{ effect: 'deny', tools: [`*${t}*`], actions: undefined, roles: undefined, servers: undefined, when: undefined }] })));
    for (const name of ['xn0.y', 'N79.', 'n7.n70.', 'n8', 'zz', 'n64.n65.n1.']) {
      const a: Action = { kind: 'tool.call', scope: 'acme/p', tool: { server: 's', name } };
      const needed = set.rules.filter((r) => covers(r, a.scope) && matchesStatically(r, a)).map((r) => r.id);
      expect(set.index.matches(a).map((r) => r.id)).toEqual(needed);
    }
  });

  it('stays right past its caches and on hostile names, scopes and role lists', () => {
    const set = load([
      { scopes: ['acme'], exclude: undefined, mode: 'enforce', rules: [{ effect: 'deny', tools: ['x*'], actions: undefined, roles: ['role-10'], servers: undefined, when: undefined }] },
    ]);
    for (let i = 0; i < 10_000; i++) {
      const a: Action = { kind: 'tool.call', scope: `acme/p${i}`, tool: { server: 's', name: `x${i}` }, principal: { id: 'u', roles: ['role-10'] } };
      expect(set.index.candidates(a)).toHaveLength(1);
    }
    const long = `x${'a'.repeat(100_000)}`;
    const roles = [...Array.from({ length: 10_000 }, (_, i) => `r${i}`), 'role-10'];
    expect(set.index.candidates({ kind: 'tool.call', scope: 'acme/a'.repeat(1000), tool: { server: 's', name: long }, principal: { id: 'u', roles } })).toHaveLength(1);
    expect(set.index.candidates({ kind: 'tool.call', scope: 'acme', tool: { server: 's', name: long }, principal: { id: 'u', roles: ['role-11'] } })).toHaveLength(0);
    expect(set.index.candidates({ kind: 'tool.call', scope: 'acmex', tool: { server: 's', name: 'x' }, principal: { id: 'u', roles: ['role-10'] } })).toHaveLength(0);
    expect(set.index.candidates({ kind: 'tool.call', scope: '', tool: { server: 's', name: 'x' } })).toHaveLength(0);
  });

  it('matches a rule without `actions` for a kind the schema does not know, and no other', () => {
    const set = load([
      {
        scopes: ['acme'],
        exclude: undefined,
        mode: 'enforce',
        rules: [
          { effect: 'deny', tools: undefined, actions: undefined, roles: undefined, servers: undefined, when: undefined },
          { effect: 'deny', tools: undefined, actions: [...KINDS], roles: undefined, servers: undefined, when: undefined },
        ],
      },
    ]);
    expect(set.index.candidates({ kind: 'no.such.kind' as ActionKind, scope: 'acme' }).map((r) => r.name)).toEqual(['r0']);
    for (const kind of ACTION_KINDS) expect(set.index.candidates({ kind, scope: 'acme' }).length).toBe((KINDS as readonly string[]).includes(kind) ? 2 : 1);
  });
});
