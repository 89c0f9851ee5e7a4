import { describe, expect, it } from 'vitest';
import { ActionSchema, FINDING_CATEGORIES, type Action, type Finding } from '../domain/index.js';
import { buildActivation } from './activation.js';
import { compileCel } from './cel.js';
import { checkConditionShape } from './cel-check.js';
import { CEL_SHAPE, type Shape } from './cel-shape.js';
import { loadPolicySources } from './load.js';
import { diagnosticsOf, policy } from './test-helpers.js';

/** The problems of one condition, as `code@offset`. */
function problems(expr: string): string[] {
  const c = compileCel(expr);
  if (!c.ok) throw new TypeError(`does not compile: ${c.error.message}`);
  return checkConditionShape(expr, c.ast).map((p) => `${p.code}@${p.start}`);
}

/** A rule with condition `when` on line 8, the condition's first character at column 14. */
const ruleWith = (when: string) => policy('p', 'acme', `    - name: r\n      effect: deny\n      when: '${when}'`);
const errorsOf = (text: string) => diagnosticsOf(text).filter((d) => d.severity === 'error');

describe('conditions are checked against the declared shape', () => {
  it('reports a misspelled field where the field name is, with a suggestion', () => {
    const [d, ...rest] = errorsOf(ruleWith('"admin" in principal.rols'));
    expect(rest).toEqual([]);
    expect(d).toMatchObject({ code: 'lint/unknown-field', span: { file: 'p.yaml', line: 8, col: 14 + '"admin" in principal.'.length } });
    expect(d!.message).toBe('condition of rule `r`: `principal` has no field `rols`');
    expect(d!.help).toContain('did you mean `roles`?');
  });

  it('reports a value an enum field never holds at the literal', () => {
    const [d] = errorsOf(ruleWith('tool.risk == "hgh"'));
    expect(d).toMatchObject({ code: 'lint/undeclared-value', span: { line: 8, col: 14 + 'tool.risk == '.length } });
    expect(d!.message).toContain('`tool.risk` is never "hgh"');
    expect(d!.help).toBe('did you mean "high"? its values are "low", "medium", "high", "critical"');
  });

  it('finds enum values in lists, either side of ==, inside macros and through map()', () => {
    expect(problems('tool.risk in ["high", "critcal"]')).toEqual(['lint/undeclared-value@22']);
    expect(problems('"suspended" != agent.status && "actve" == agent.status')).toEqual(['lint/undeclared-value@31']);
    expect(problems('findings.exists(f, f.category == "secrets" && f.severity == "high")')).toEqual(['lint/undeclared-value@33']);
    expect(problems('"pii" in findings.map(f, f.category) && "ssn" in findings.map(f, f.category)')).toEqual(['lint/undeclared-value@40']);
    expect(errorsOf(ruleWith('"ssn" in findings.map(f, f.category)'))[0]!.message).toBe('condition of rule `r`: an element of `findings.map(f, f.category)` is never "ssn"');
    expect(problems('context.weekday in ["saturday", "sundy"]')).toEqual(['lint/undeclared-value@32']);
    expect(problems('action.kind == "tool.invoke"')).toEqual(['lint/undeclared-value@15']);
    expect(problems('principal.type == "robot"')).toEqual(['lint/undeclared-value@18']);
  });

  it('reports every unknown field of a condition, in macros and in has()', () => {
    expect(problems('principal.rols.size() > 0 || agent.stauts == "active"')).toEqual(['lint/unknown-field@10', 'lint/unknown-field@35']);
    expect(problems('findings.exists(f, f.categroy == "pii")')).toEqual(['lint/unknown-field@21']);
    expect(problems('cel.bind(t, tool, t.riks == "high")')).toEqual(['lint/unknown-field@20']);
    // At run time `has()` of a field never present is false, not an error: a condition that silently never holds.
    const [d] = errorsOf(ruleWith('has(principal.email) && principal.email.endsWith("@acme.com")'));
    expect(d!.message).toContain('`has(principal.email)` is always false');
    expect(problems('server.status == "approved"')).toEqual(['lint/unknown-field@7']);
    expect(problems('principal["rols"] == []')).toEqual(['lint/unknown-field@10']);
  });

  it('reports a field used against its declared type', () => {
    const [d] = errorsOf(ruleWith('principal.roles == "admin"'));
    expect(d).toMatchObject({ code: 'lint/type-mismatch', span: { line: 8 } });
    expect(d!.message).toMatch(/overload/);
    // A literal of another type, in `context` too (an open map to the library's checker), at the literal.
    expect(problems('context.hour >= "9" || context.weekday == 1')).toEqual(['lint/type-mismatch@16', 'lint/type-mismatch@42']);
    const [t] = errorsOf(ruleWith('context.time > "2026-01-01T00:00:00Z"'));
    expect(t).toMatchObject({ code: 'lint/type-mismatch', span: { line: 8, col: 14 + 'context.time > '.length }, help: 'compare with `timestamp("2026-01-01T00:00:00Z")`' });
    expect(errorsOf(ruleWith('principal.id == null'))[0]).toMatchObject({ message: 'condition of rule `r`: `principal.id` is a string, never null', help: 'use `has(principal.id)` to test whether it is present' });
    // The library reports only its first error; one the walk did not find is kept beside the walk's.
    expect(problems('principal.id == 3 || principal.roles == "x"')).toEqual(['lint/type-mismatch@16']);
    expect(problems('principal.roles == "x" || principal.id == 3')).toEqual(['lint/type-mismatch@0', 'lint/type-mismatch@42']);
  });

  it('leaves open maps and valid conditions alone', () => {
    for (const ok of [
      'args.anything.deeper[0] == 3 && has(args.x) && args["content-type"] == "a"',
      'principal.attributes.team == "payments" && has(agent.attributes.tier) && tool.attributes.x > 1',
      'context.custom == "x" && context.hour >= 9 && context.weekday == "monday" && context.environment == "prod"',
      'context.time > timestamp("2026-01-01T00:00:00Z") && context.hour > 8.5 && findings.exists(f, f.score > 0 && f.score < 1.0)',
      'has(tool.risk) && tool.risk in ["high", "critical"] && "deploy" in tool.capabilities',
      'findings.exists(f, f.category == "prompt_injection" && f.score >= 0.8 && f.start > 0)',
      'findings.all(f, f.severity != "critical") && size(findings) < 3',
      'resource.uri.startsWith("file:///etc") && resource.server == "fs" && server.name.globMatches("f*")',
      'action.kind == "tool.call" && action.scope.under("acme")',
      'principal.id == agent.owner || principal.roles.exists(r, r == "admin")',
      'args.env == "prod" ? tool.risk == "high" : false',
    ]) expect(problems(ok), ok).toEqual([]);
  });

  it('reports the errors of every rule and every file in one run', () => {
    const a = policy('a', 'acme', `    - { name: r1, effect: deny, when: 'principal.rols == []' }\n    - { name: r2, effect: deny, when: 'tool.risk == "hgh"' }`);
    const b = policy('b', 'acme', `    - { name: r3, effect: deny, when: 'agent.status == "gone" || tool.nme == "x"' }\n    - { name: r4, effect: deny, when: 'args.x == ' }`);
    const r = loadPolicySources([
      { file: 'a.yaml', text: a },
      { file: 'b.yaml', text: b },
    ]);
    expect(r.set).toBeUndefined();
    expect(r.diagnostics.map((d) => `${d.span.file}:${d.span.line}:${d.code}`)).toEqual([
      'a.yaml:6:lint/unknown-field',
      'a.yaml:7:lint/undeclared-value',
      'b.yaml:6:lint/undeclared-value',
      'b.yaml:6:lint/unknown-field',
      'b.yaml:7:policy.cel_compile',
    ]);
  });

  it('checks the conditions of a document the schema refused, so its errors are not hidden behind a typo', () => {
    const text = policy('p', 'acme', `    - { name: r1, effect: deny, when: 'principal.rols == []' }\n    - { name: r2, effect: deny, efect: allow, when: 'tool.risk == "hgh"' }\n    - { effect: deny, when: 'args.x == ' }`);
    expect(errorsOf(text).map((d) => `${d.span.line}:${d.code}`).sort()).toEqual(['6:lint/unknown-field', '7:lint/undeclared-value', '7:policy.schema', '8:policy.cel_compile', '8:policy.schema']);
  });
});

/** The keys `buildActivation` gives a closed object, checked against its declared fields. */
function undeclared(value: unknown, shape: Shape, path: string): string[] {
  if (shape.kind === 'list') return Array.isArray(value) ? value.flatMap((v, i) => undeclared(v, shape.of, `${path}[${i}]`)) : [];
  if (shape.kind !== 'object' || value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const f = Object.hasOwn(shape.fields, k) ? shape.fields[k] : undefined;
    if (f) return undeclared(v, f, `${path}.${k}`);
    return shape.open ? [] : [`${path}.${k}`];
  });
}

describe('the declared shape', () => {
  it('declares every field the activation sets, so a valid action never meets an unknown field', () => {
    const action: Action = {
      kind: 'tool.call',
      scope: 'acme/a',
      principal: { id: 'u', type: 'user', roles: ['dev'], attributes: { team: 'x' } },
      agent: { id: 'a', kind: 'k', owner: 'o', model: 'm', status: 'active', attributes: {} },
      tool: { server: 's', name: 's.t', risk: 'high', owner: 'o', capabilities: ['c'], classification: 'c', status: 'approved', definitionHash: 'h', attributes: {} },
      resource: { uri: 'file:///x', server: 's' },
      args: { x: 1 },
      context: { ip: '10.0.0.1', environment: 'prod', claimedTime: '2026-01-01T00:00:00Z' },
    };
    expect(Object.keys(ActionSchema.properties.tool.properties).sort()).toEqual(Object.keys(action.tool!).sort());
    const finding: Finding = { category: 'pii', type: 't', score: 0.5, severity: 'low', start: 0, end: 1, detector: 'd', evidence: 'e', path: 'args.x' };
    const activation = buildActivation(action, { now: new Date(), timezone: 'UTC', findings: [finding] });
    const missing = Object.entries(activation).flatMap(([k, v]) => undeclared(v, (CEL_SHAPE as Record<string, Shape>)[k]!, k));
    expect(missing).toEqual([]);
  });

  it('takes enum values from the domain', () => {
    expect(CEL_SHAPE.findings).toMatchObject({ kind: 'list', of: { fields: { category: { kind: 'enum', values: FINDING_CATEGORIES } } } });
    expect(CEL_SHAPE.tool).toMatchObject({ kind: 'object', open: false, fields: { risk: { kind: 'enum', values: ['low', 'medium', 'high', 'critical'] } } });
  });
});
