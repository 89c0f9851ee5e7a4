import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from './diagnostic.js';
import { loadPolicySources } from './load.js';
import { diagnosticsOf, policy } from './test-helpers.js';

const errorsOf = (text: string) => diagnosticsOf(text).filter((d) => d.severity === 'error');

describe('YAML and schema errors point at file:line:col', () => {
  it('reports malformed YAML with its position', () => {
    const ds = errorsOf('apiVersion: warden.dev/v1\nkind: Policy\nmetadata: { name: x, scope: acme\nspec: {}\n');
    expect(ds[0]).toMatchObject({ code: 'policy.yaml_syntax', span: { file: 'p.yaml', line: expect.any(Number) } });
    expect(ds[0]!.span.line).toBeGreaterThanOrEqual(3);
  });

  it('reports duplicate keys', () => {
    const ds = errorsOf('apiVersion: warden.dev/v1\nkind: Policy\nkind: Policy\n');
    expect(ds[0]).toMatchObject({ code: 'policy.yaml_syntax', span: { line: 3 } });
  });

  it('reports an unknown field at the key itself', () => {
    const text = policy('p', 'acme', `    - name: r\n      effect: deny\n      effcet: allow`);
    const ds = errorsOf(text);
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ code: 'policy.schema', message: '`/spec/rules/0` unknown field `effcet`', span: { line: 8, col: 7 } });
  });

  it('reports a bad enum value where it sits', () => {
    const ds = errorsOf(policy('p', 'acme', `    - { name: r, effect: permit }`));
    expect(ds[0]!.message).toContain('/spec/rules/0/effect');
    expect(ds[0]!.message).toContain('`allow`');
    expect(ds[0]!.span).toMatchObject({ line: 6 });
  });

  it('reports an unknown document kind and a missing field', () => {
    expect(errorsOf('apiVersion: warden.dev/v1\nkind: Polcy\n')[0]).toMatchObject({ message: 'unknown kind `Polcy`', span: { line: 2, col: 7 } });
    expect(errorsOf('apiVersion: warden.dev/v1\nkind: Policy\nmetadata: { scope: acme }\nspec: { rules: [] }\n')[0]!.message).toContain('missing required field `name`');
  });

  it('rejects invalid scope paths and action kinds', () => {
    expect(errorsOf(policy('p', 'acme//x', `    - { name: r, effect: deny }`))[0]!.message).toContain('/metadata/scope');
    expect(errorsOf(policy('p', 'acme', `    - { name: r, effect: deny, match: { actions: [tool.run] } }`))[0]!.message).toContain('/spec/rules/0/match/actions/0');
  });
});

describe('CEL compile errors', () => {
  it('reports a syntax error at its column inside the condition', () => {
    const text = policy('p', 'acme', `    - name: r\n      effect: deny\n      when: 'args.x == '`);
    const [d] = errorsOf(text);
    expect(d).toMatchObject({ code: 'policy.cel_compile', span: { file: 'p.yaml', line: 8 } });
    expect(d!.message).toContain('rule `r`');
    // The quote opens at col 13; the error (end of input) sits after `args.x == `.
    expect(d!.span.col).toBeGreaterThan(13);
  });

  it('reports an unknown variable and a type error with positions', () => {
    const [u] = errorsOf(policy('p', 'acme', `    - name: r\n      effect: deny\n      when: 'usr.id == "x"'`));
    expect(u).toMatchObject({ code: 'policy.cel_compile', span: { line: 8, col: 14 } });
    expect(u!.message).toContain('usr');
    const [t] = errorsOf(policy('p', 'acme', `    - name: r\n      effect: deny\n      when: '1 + "a" == 2'`));
    expect(t!.code).toBe('policy.cel_compile');
    expect(t!.message).toMatch(/overload/);
  });

  it('reports a condition shared by several rules once per rule, each at its own place', () => {
    const text = policy('p', 'acme', `    - { name: a, effect: deny, when: 'args.x == ' }\n    - { name: b, effect: allow, when: 'args.x == ' }\n    - { name: c, effect: deny, when: 'args.x == 1' }`);
    const ds = errorsOf(text);
    expect(ds.map((d) => [d.code, d.span.line])).toEqual([
      ['policy.cel_compile', 6],
      ['policy.cel_compile', 7],
    ]);
    expect(ds[0]!.message).toContain('rule `a`');
    expect(ds[1]!.message).toContain('rule `b`');
  });

  it('rejects a condition that is not a bool', () => {
    const [d] = errorsOf(policy('p', 'acme', `    - { name: r, effect: deny, when: '1 + 2' }`));
    expect(d!.message).toContain('must be a bool');
  });

  it('points into block scalars on the right line', () => {
    const text = policy('p', 'acme', `    - name: r\n      effect: deny\n      when: >-\n        has(args.x) &&\n        args.x ==`);
    const [d] = errorsOf(text);
    // End of input: just after `==` on the condition's second line.
    expect(d!.span).toMatchObject({ line: 10, col: 18 });
  });
});

describe('lint', () => {
  it('rejects matches() and points at it', () => {
    const [d] = errorsOf(policy('p', 'acme', `    - name: r\n      effect: deny\n      when: 'args.s.matches("a+")'`));
    expect(d).toMatchObject({ code: 'lint/no-matches', span: { line: 8, col: 21 } });
    expect(d!.help).toContain('re2Matches');
  });

  it('rejects duplicate policy and rule names across files', () => {
    const a = policy('p', 'acme', `    - { name: r, effect: deny }\n    - { name: r, effect: allow }`);
    const r = loadPolicySources([{ file: 'a.yaml', text: a }, { file: 'b.yaml', text: policy('p', 'other', `    - { name: x, effect: deny }`) }]);
    const codes = r.diagnostics.map((d) => d.code);
    expect(codes).toContain('lint/duplicate-rule');
    expect(codes).toContain('lint/duplicate-policy');
    expect(r.set).toBeUndefined();
    expect(r.diagnostics.find((d) => d.code === 'lint/duplicate-policy')!.message).toContain('a.yaml:3');
  });

  it('checks excludes and time zones', () => {
    const codes = (t: string) => diagnosticsOf(t).map((d) => `${d.severity}:${d.code}`);
    expect(codes(policy('p', 'acme/a', `    - { name: r, effect: deny }`, 'exclude: [acme]'))).toContain('error:lint/exclude-covers-scope');
    expect(codes(policy('p', 'acme/a', `    - { name: r, effect: deny }`, 'exclude: [other/x]'))).toContain('warning:lint/exclude-outside-scope');
    expect(codes('apiVersion: warden.dev/v1\nkind: ScopeSettings\nmetadata: { scope: acme }\nspec: { timezone: Mars/Olympus }\n')).toContain('error:lint/invalid-timezone');
  });

  it('warns but still loads on softer problems', () => {
    const r = loadPolicySources([{ file: 'p.yaml', text: policy('p', 'acme', `    - { name: everything, effect: allow }\n    - { name: appr, effect: require_approval }`) }]);
    expect(r.set).toBeDefined();
    expect(r.diagnostics.map((d) => d.code).sort()).toEqual(['lint/allow-everything', 'lint/approval-missing']);
    expect(formatDiagnostic(r.diagnostics[0]!)).toMatch(/^p\.yaml:\d+:\d+: warning\[lint\//);
  });

  it('still checks disabled policies so a broken one is caught before it is enabled', () => {
    expect(errorsOf(policy('p', 'acme', `    - { name: r, effect: deny, when: 'nope(' }`, 'mode: disabled'))[0]!.code).toBe('policy.cel_compile');
  });
});

describe('policy set version', () => {
  it('changes when any source changes and not otherwise', () => {
    const a = policy('p', 'acme', `    - { name: r, effect: deny }`);
    const v1 = loadPolicySources([{ file: 'a.yaml', text: a }]).set!.version;
    expect(loadPolicySources([{ file: 'a.yaml', text: a }]).set!.version).toBe(v1);
    expect(loadPolicySources([{ file: 'a.yaml', text: `${a}\n` }]).set!.version).not.toBe(v1);
  });
});
