import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { checkAgainstYaml, generatedText, mutatedText, readWithYaml, SEEDS } from '../../test/support/yaml-fuzz.js';
import { loadPolicySources } from './load.js';
import { readPlainYaml } from './plain-yaml.js';

const ROOT = join(import.meta.dirname, '..', '..');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : yamlFiles(p);
    return /\.ya?ml$/.test(e.name) ? [p] : [];
  });
}

/** A policy document as the bench and `yaml.stringify` write it: block style, a shared list (an alias), a folded condition. */
function stringifiedPolicy(name: string, when: string): string {
  const actions = ['tool.call'];
  return stringify({
    apiVersion: 'warden.dev/v1',
    kind: 'Policy',
    metadata: { name, scope: 'acme/g01', exclude: ['acme/g01/s01'], version: 1 },
    spec: {
      rules: [
        { name: 'r1', match: { actions, tools: ['*.exec', 'shell.*'], roles: ['developer'] }, when, effect: 'deny' },
        { name: 'r2', match: { actions, tools: ['deploy.*'] }, effect: 'require_approval', approval: { approvers: { roles: ['maintainer'] }, count: 1 } },
      ],
    },
  });
}

const LONG_WHEN = 'tool.risk == "high" || (has(args.environment) && args.environment == "production")';

describe('plain YAML reader', () => {
  it('reads what yaml reads on every YAML file of the repository', () => {
    for (const f of [...yamlFiles(join(ROOT, 'examples')), ...yamlFiles(join(ROOT, 'test'))]) checkAgainstYaml(readFileSync(f, 'utf8'));
  });

  it('reads block-style policies itself, aliases and folded conditions included', () => {
    const text = [stringifiedPolicy('p1', LONG_WHEN), stringifiedPolicy('p2', 'context.hour < 8')].join('---\n');
    expect(text).toContain('*a1');
    expect(text).toMatch(/==\n\s+"production"\)/);
    for (const seed of [text, ...SEEDS]) expect(checkAgainstYaml(seed)).toBe('fast');
    const docs = readPlainYaml(text)!;
    const rules = (docs[0]!.value as { spec: { rules: { match: { actions: unknown }; when?: string }[] } }).spec.rules;
    expect(rules[0]!.when).toBe(LONG_WHEN);
    // The alias is the anchored list itself, as yaml's toJS gives it.
    expect(rules[1]!.match.actions).toBe(rules[0]!.match.actions);
  });

  it.each([
    ['a tab', 'a: 1\nb:\t2\n'],
    ['a carriage return', 'a: 1\r\nb: 2\r\n'],
    ['a byte-order mark', '\ufeffa: 1\n'],
    ['a no-break space', 'a: x\u00a0\n'],
    ['a flow mapping', 'a: { b: 1 }\n'],
    ['a flow sequence', 'a: [1, 2]\n'],
    ['a block scalar', 'a: |\n  text\n'],
    ['a tag', 'a: !!str 1\n'],
    ['a directive', '%YAML 1.2\n---\na: 1\n'],
    ['a document end marker', 'a: 1\n...\n'],
    ['an empty document', 'a: 1\n---\n'],
    ['a duplicate key', 'a: 1\na: 2\n'],
    ['a __proto__ key', '__proto__: 1\n'],
    ['a key the core schema reads as a boolean', 'true: 1\n'],
    ['a quoted key', '"a": 1\n'],
    ['a float', 'a: 0.5\n'],
    ['a hex integer', 'a: 0x1F\n'],
    ['a capitalized boolean', 'a: True\n'],
    ['a null', 'a: ~\n'],
    ['a 16-digit integer', 'a: 1234567890123456\n'],
    ['an alias before its anchor', 'a: *x\nb: &x 1\n'],
    ['an alias inside its anchor', 'a: &x\n  b: *x\n'],
    ['a redefined anchor', 'a: &x 1\nb: &x 2\nc: *x\n'],
    ['an anchor holding an alias', 'a: &x 1\nb: &y\n  - *x\nc: *y\n'],
    ['100 aliases of one anchor', `a: &x 1\n${Array.from({ length: 100 }, (_, i) => `k${i}: *x`).join('\n')}\n`],
    ['an anchor on a sequence item', '- &x a\n'],
    ['a top-level sequence', '- a\n'],
    ['a top-level scalar', 'just text\n'],
    ['a nested mapping on one line', 'a: b: c\n'],
    ['a continuation after a comment', 'a: b # c\n  d\n'],
    ['a continuation after a blank line', 'a: b\n\n  c\n'],
    ['a comment with no space before it', 'a: "b"#c\n'],
    ['an unknown escape', 'a: "\\x41"\n'],
    ['a multi-line quoted scalar', 'a: "b\n  c"\n'],
    ['an indented document', '  a: 1\n'],
    ['an over-indented line', 'a: 1\n  b: 2\n'],
    ['a complex key', '? a\n: 1\n'],
  ])('leaves %s to yaml', (_what, text) => {
    expect(readPlainYaml(text)).toBeUndefined();
    checkAgainstYaml(text);
  });

  it('gives up on deep nesting instead of overflowing', () => {
    expect(() => readPlainYaml(`a:\n  ${'- '.repeat(100_000)}x\n`)).not.toThrow();
  });

  it('agrees with yaml on generated documents, and reads many of them itself', () => {
    let fast = 0;
    fc.assert(
      fc.property(generatedText, (text) => {
        if (checkAgainstYaml(text) === 'fast') fast++;
      }),
      { numRuns: 400 },
    );
    expect(fast).toBeGreaterThan(40);
  });

  it('agrees with yaml on documents mutated a character or a line at a time', () => {
    fc.assert(
      fc.property(mutatedText, (text) => {
        checkAgainstYaml(text);
      }),
      { numRuns: 800 },
    );
  });
});

describe('loading through the plain reader', () => {
  // Policies with the mistakes diagnostics point at; a trailing `#\t` comment sends the same text
  // through `yaml` without moving anything, so the two loads must report the same file:line:col.
  const broken = [
    (t: string) => t.replace('effect: deny', 'effect: permit'),
    (t: string) => t.replace('count: 1', 'count: 1\n        cuont: 2'),
    (t: string) => t.replace('context.hour < 8', 'context.hour <'),
    (t: string) => t.replace('context.hour < 8', 'args.x.matches("a+")'),
    (t: string) => t.replace('name: r2', 'name: r1'),
    (t: string) => t.replace('name: p2', 'name: p1'),
    (t: string) => t.replace('scope: acme/g01\n  exclude', 'scope: acme//g01\n  exclude'),
    (t: string) => t.replace('kind: Policy', 'kind: Polcy'),
    (t: string) => t.replace('require_approval\n      approval:\n        approvers:\n          roles:\n            - maintainer\n        count: 1', 'require_approval'),
  ];

  it.each(broken.map((b, i) => [i, b] as const))('reports mistake %i where yaml would', (_i, breakIt) => {
    const text = breakIt([stringifiedPolicy('p1', LONG_WHEN), stringifiedPolicy('p2', 'context.hour < 8')].join('---\n'));
    expect(readPlainYaml(text)).toBeDefined();
    const fast = loadPolicySources([{ file: 'p.yaml', text }]);
    const full = loadPolicySources([{ file: 'p.yaml', text: `${text}#\t\n` }]);
    expect(readWithYaml(`${text}#\t\n`)).toBeDefined();
    expect(fast.diagnostics.length).toBeGreaterThan(0);
    expect(fast.diagnostics).toEqual(full.diagnostics);
    expect(fast.set === undefined).toBe(full.set === undefined);
  });

  it('loads the same set either way', () => {
    const text = [stringifiedPolicy('p1', LONG_WHEN), stringifiedPolicy('p2', 'context.hour < 8')].join('---\n');
    const fast = loadPolicySources([{ file: 'p.yaml', text }]);
    const full = loadPolicySources([{ file: 'p.yaml', text: `${text}#\t\n` }]);
    expect(fast.set!.rules.map((r) => [r.policy, r.name, r.effect, r.toolGlobs, [...(r.actions ?? [])], r.whenSource])).toEqual(
      full.set!.rules.map((r) => [r.policy, r.name, r.effect, r.toolGlobs, [...(r.actions ?? [])], r.whenSource]),
    );
    expect(fast.set!.policies).toEqual(full.set!.policies);
  });
});
