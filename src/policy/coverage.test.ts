import { describe, expect, it } from 'vitest';
import type { Action } from '../domain/index.js';
import { locateRules, ruleCoverage } from './coverage.js';
import { decide, matchingRules } from './evaluate.js';
import { parsePolicyTestSource } from './parse.js';
import { runPolicyTests } from './policy-test.js';
import { policy, setOf, settings } from './test-helpers.js';

const POLICY = policy(
  'p',
  'acme',
  `    - { name: no-shell, effect: deny, match: { tools: ["shell.*"] } }
    - { name: shell-for-admins, effect: allow, match: { tools: ["shell.*"], roles: [admin] } }
    - { name: reads, effect: allow, match: { tools: ["*.read"] } }
    - { name: never-called, effect: deny, match: { tools: ["nuke.*"] } }
    - { name: never-true, effect: allow, match: { tools: ["*.read"] }, when: 'args.size() > 100' }`,
);
const WARN = policy('w', 'acme', `    - { name: flag-reads, effect: deny, match: { tools: ["*.read"] } }`, 'mode: warn');
const set = setOf(settings('acme', '{ defaultEffect: deny }'), POLICY, WARN);

const run = async (tests: string) => {
  const file = parsePolicyTestSource('p.test.yaml', tests).file!;
  return runPolicyTests(file, async (a: Action) => decide(set, a), { matching: (a, d) => matchingRules(set, a, { findings: d.findings }).map((r) => `${r.policy}/${r.name}`) });
};

const CASES = `tests:
  - name: shell is denied, even to an admin
    action: { kind: tool.call, scope: acme/x, principal: { id: a, roles: [admin] }, tool: { server: shell, name: shell.run } }
    expect: { effect: deny, rule: p/no-shell }
  - name: reads are open
    action: { kind: tool.call, scope: acme/x, tool: { server: f, name: f.read } }
    expect: { effect: allow, rule: p/reads, warnings: [w/flag-reads] }
`;

describe('policy test coverage', () => {
  it('lists exactly the rules no case matched, and those matched but never deciding', async () => {
    const results = await run(CASES);
    expect(results.every((r) => r.passed)).toBe(true);
    expect(results[0]!.matched).toEqual(['p/no-shell', 'p/shell-for-admins']);
    expect(results[0]!.decidedBy).toEqual(['p/no-shell']);
    const sources = [{ file: 'p.yaml', text: POLICY }];
    const c = ruleCoverage(set, results, locateRules(sources));
    expect(c).toMatchObject({ total: 6, exercised: 4 });
    expect(c.notExercised.map((r) => r.id)).toEqual(['p/never-called', 'p/never-true']);
    expect(c.notExercised[0]!.span).toEqual({ file: 'p.yaml', line: 9, col: 15 });
    expect(c.neverDecided.map((r) => [r.id, r.mode])).toEqual([
      ['p/shell-for-admins', 'enforce'],
      ['w/flag-reads', 'warn'],
    ]);
  });
});

describe('a failing case', () => {
  it('names the rule that decided, and whether the expected one matched', async () => {
    const [wrongEffect, defaulted, outvoted] = await run(`tests:
  - name: wrong effect
    action: { kind: tool.call, scope: acme/x, tool: { server: f, name: f.read } }
    expect: { effect: deny, rule: p/no-shell }
  - name: nothing matched
    action: { kind: tool.call, scope: acme/x, tool: { server: m, name: m.other } }
    expect: { effect: allow }
  - name: outvoted
    action: { kind: tool.call, scope: acme/x, principal: { id: a, roles: [admin] }, tool: { server: shell, name: shell.run } }
    expect: { effect: deny, rule: p/shell-for-admins }
`);
    expect(wrongEffect!.failure).toBe('expected effect `deny` but got `allow` (decided by `p/reads`); expected rule `p/no-shell` to decide (it did not match)');
    expect(defaulted!.failure).toBe('expected effect `allow` but got `deny` (decided by `scope-settings/default-effect` (no rule matched; the default effect of scope `acme` applies))');
    expect(outvoted!.failure).toBe('expected rule `p/shell-for-admins` to decide (it matched, but did not decide), but `p/no-shell` decided');
  });
});
