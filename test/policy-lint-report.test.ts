import { describe, expect, it } from 'vitest';
import { lintJunit, lintSarif, type Diagnostic } from '../src/policy/index.js';
import { parseXml, type XmlElement } from './support/xml.js';

const DIAGNOSTICS: Diagnostic[] = [
  { severity: 'error', code: 'lint/unknown-field', message: 'condition of rule `r`: `principal` has no field `rols`', help: 'did you mean `roles`?', span: { file: 'policies/a.yaml', line: 8, col: 24 } },
  { severity: 'error', code: 'lint/undeclared-value', message: '`tool.risk` is never "hgh" & <never> \u0001', span: { file: 'policies/a.yaml', line: 9, col: 30 } },
  { severity: 'warning', code: 'lint/empty-policy', message: 'policy `e` has no rules', span: { file: 'policies/b c.yaml', line: 5, col: 3 } },
  { severity: 'error', code: 'policy.cel_compile', message: 'does not compile', span: { file: '/abs/dir/x.yaml', line: 1, col: 1 } },
];

describe('policy lint as SARIF 2.1.0', () => {
  const log = lintSarif(DIAGNOSTICS, { version: '1.2.3' });

  it('has the fields code scanning requires, and one result per diagnostic', () => {
    expect(log.version).toBe('2.1.0');
    expect(log.$schema).toMatch(/sarif-2\.1\.0/);
    expect(log.runs).toHaveLength(1);
    const run = log.runs[0]!;
    expect(run.tool.driver).toMatchObject({ name: 'warden', version: '1.2.3' });
    const ids = run.tool.driver.rules.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(['lint/unknown-field', 'lint/undeclared-value', 'lint/empty-policy', 'policy.cel_compile']);
    for (const r of run.tool.driver.rules) expect(r.shortDescription.text.length).toBeGreaterThan(0);
    expect(run.tool.driver.rules.find((r) => r.id === 'lint/empty-policy')!.defaultConfiguration.level).toBe('warning');
    expect(run.results).toHaveLength(DIAGNOSTICS.length);
    run.results.forEach((res, i) => {
      const d = DIAGNOSTICS[i]!;
      expect(res.ruleId).toBe(d.code);
      expect(run.tool.driver.rules[res.ruleIndex]!.id).toBe(res.ruleId);
      expect(res.level).toBe(d.severity);
      expect(res.message.text).toContain(d.message);
      expect(res.locations).toHaveLength(1);
      expect(res.locations[0]!.physicalLocation.region).toEqual({ startLine: d.span.line, startColumn: d.span.col });
    });
    expect(run.results[0]!.message.text).toContain('did you mean `roles`?');
  });

  it('writes relative files as URIs relative to the checkout and absolute ones as file URLs', () => {
    const uris = log.runs[0]!.results.map((r) => r.locations[0]!.physicalLocation.artifactLocation);
    expect(uris[0]).toEqual({ uri: 'policies/a.yaml', uriBaseId: '%SRCROOT%' });
    expect(uris[2]).toEqual({ uri: 'policies/b%20c.yaml', uriBaseId: '%SRCROOT%' });
    expect(uris[3]).toEqual({ uri: 'file:///abs/dir/x.yaml' });
  });
});

describe('policy lint as JUnit XML', () => {
  const children = (el: XmlElement, name: string) => el.children.filter((c) => c.name === name);

  it('is well-formed, a suite per file, a failed case per error and a passing case per clean file', () => {
    const xml = lintJunit(DIAGNOSTICS, ['policies/a.yaml', 'policies/b c.yaml', 'policies/clean.yaml']);
    const root = parseXml(xml);
    expect(root.name).toBe('testsuites');
    expect(root.attrs).toMatchObject({ tests: '5', failures: '3', errors: '0' });
    const suites = children(root, 'testsuite');
    expect(suites.map((s) => s.attrs.name)).toEqual(['policies/a.yaml', 'policies/b c.yaml', 'policies/clean.yaml', '/abs/dir/x.yaml']);
    const [a, b, clean, abs] = suites;
    expect(children(a!, 'testcase').map((c) => c.attrs.name)).toEqual(['lint/unknown-field at 8:24', 'lint/undeclared-value at 9:30']);
    const failure = children(children(a!, 'testcase')[1]!, 'failure')[0]!;
    // The message survives escaping; the control character XML cannot hold is replaced.
    expect(failure.attrs).toEqual({ message: '`tool.risk` is never "hgh" & <never> \uFFFD', type: 'lint/undeclared-value' });
    expect(failure.text).toBe('policies/a.yaml:9:30: error[lint/undeclared-value]: `tool.risk` is never "hgh" & <never> \uFFFD');
    // A warning fails nothing: it is in the suite's output.
    expect(b!.attrs).toMatchObject({ tests: '1', failures: '0' });
    expect(children(b!, 'system-out')[0]!.text).toContain('warning[lint/empty-policy]');
    expect(children(clean!, 'testcase')).toEqual([{ name: 'testcase', attrs: { classname: 'policies/clean.yaml', name: 'lint', file: 'policies/clean.yaml' }, children: [], text: '' }]);
    expect(abs!.attrs).toMatchObject({ tests: '1', failures: '1' });
  });

  it('the test parser refuses what is not well-formed', () => {
    for (const bad of ['<a>', '<a></b>', '<a x="1" x="2"/>', '<a>&</a>', '<a>&nope;</a>', '<a/><b/>', '<a>\u0001</a>', '<a x=1/>']) expect(() => parseXml(bad), bad).toThrow(SyntaxError);
  });
});
