import { describe, expect, it } from 'vitest';
import { checksFor } from './checks-for.js';
import { decide } from './evaluate.js';
import { loadPolicySources } from './load.js';
import { call, policy, setOf } from './test-helpers.js';

const load = (rules: string, checkHosts?: string[]) => loadPolicySources([{ file: 'p.yaml', text: policy('gate', 'acme', rules) }], checkHosts ? { checkHosts } : {});
const codes = (rules: string, checkHosts?: string[]) => load(rules, checkHosts).diagnostics.map((d) => `${d.severity}:${d.code}`);
const checked = (url: string, extra = '') => `    - name: r\n      match: { tools: ["deploy.*"] }\n      effect: allow\n      checks: [{ name: c, url: "${url}"${extra} }]`;

describe('status checks in the policy syntax', () => {
  it('compiles a check with its defaults: 5s timeout, onError deny, no cache', () => {
    const r = load(checked('https://checks.example.com/deploy'));
    expect(r.diagnostics).toEqual([]);
    expect(r.set!.hasChecks).toBe(true);
    expect(r.set!.rules[0]!.checks).toEqual([{ policy: 'gate', version: 1, rule: 'r', name: 'c', url: 'https://checks.example.com/deploy', timeoutMs: 5000, onError: 'deny', cacheMs: 0 }]);
  });

  it('reads timeout, onError and cache, sub-second durations included', () => {
    const r = load(checked('https://checks.example.com/', ', timeout: 500ms, onError: allow, cache: 2m'));
    expect(r.set!.rules[0]!.checks![0]).toMatchObject({ timeoutMs: 500, onError: 'allow', cacheMs: 120_000 });
    expect(loadPolicySources([{ file: 'p.yaml', text: policy('p', 'acme', '    - { name: r, effect: allow }') }]).set!.hasChecks).toBe(false);
  });

  it('refuses unknown check fields and bad durations in the schema', () => {
    expect(codes(checked('https://a.example/', ', retries: 3'))).toContain('error:policy.schema');
    expect(codes(checked('https://a.example/', ', timeout: 5 seconds'))).toContain('error:policy.schema');
  });

  it.each([
    ['http://127.0.0.1:8080/check', 'loopback'],
    ['http://localhost/check', '`localhost`'],
    ['http://api.localhost/check', '`localhost`'],
    ['https://10.0.0.5/', 'private'],
    ['https://192.168.1.10/', 'private'],
    ['https://172.20.0.1/', 'private'],
    ['http://169.254.169.254/latest/meta-data', 'link-local'],
    ['http://100.64.0.1/', 'carrier-grade NAT'],
    ['http://0.0.0.0/', 'unspecified'],
    ['http://[::1]/', 'loopback'],
    ['http://[::]/', 'unspecified'],
    ['http://[fd00::1]/', 'unique-local'],
    ['http://[fe80::1]/', 'link-local'],
    ['http://[::ffff:127.0.0.1]/', 'loopback'],
    ['http://[::ffff:a9fe:a9fe]/', 'link-local'],
    ['http://2130706433/', 'loopback'],
    ['http://0x7f.1/', 'loopback'],
    ['http://0177.0.0.1/', 'loopback'],
    ['http://10.1/', 'private'],
  ])('refuses %s at load (%s)', (url, why) => {
    const r = load(checked(url));
    expect(r.set).toBeUndefined();
    const d = r.diagnostics.find((x) => x.code === 'lint/check-private-address');
    expect(d, url).toBeDefined();
    expect(d!.severity).toBe('error');
    expect(d!.message).toContain(why);
    expect(d!.span).toMatchObject({ file: 'p.yaml', line: 9 });
  });

  it('accepts a private address or localhost that the allow-list names, and only that one', () => {
    expect(load(checked('http://127.0.0.1:9000/check'), ['127.0.0.1']).set).toBeDefined();
    expect(load(checked('http://LOCALHOST:9000/check'), ['localhost']).set).toBeDefined();
    expect(load(checked('http://[::1]:9000/check'), ['::1']).set).toBeDefined();
    // The decimal spelling normalizes to the allow-listed address.
    expect(load(checked('http://2130706433/'), ['127.0.0.1']).set).toBeDefined();
    expect(codes(checked('http://127.0.0.2/'), ['127.0.0.1'])).toEqual(['error:lint/check-private-address']);
    expect(codes(checked('http://api.localhost/'), ['localhost'])).toEqual(['error:lint/check-private-address']);
  });

  it('leaves DNS names and public addresses to the request-time guard', () => {
    expect(codes(checked('https://checks.internal.example/'))).toEqual([]);
    expect(codes(checked('https://93.184.216.34/'))).toEqual([]);
  });

  it('refuses other schemes, credentials in the URL, text that is no URL', () => {
    expect(codes(checked('ftp://checks.example.com/'))).toEqual(['error:lint/check-url']);
    expect(codes(checked('file:///etc/passwd'))).toEqual(['error:lint/check-url']);
    expect(codes(checked('https://user:pw@checks.example.com/'))).toEqual(['error:lint/check-url']);
    expect(codes(checked('/relative/path'))).toEqual(['error:lint/check-url']);
  });

  it('refuses a timeout of 0 or over 60s, and two checks of one name', () => {
    expect(codes(checked('https://a.example/', ', timeout: 61s'))).toEqual(['error:lint/check-timeout']);
    expect(codes(checked('https://a.example/', ', timeout: 0s'))).toEqual(['error:lint/check-timeout']);
    expect(codes(checked('https://a.example/', ', timeout: 60s'))).toEqual([]);
    const twice = `    - name: r\n      match: { tools: ["deploy.*"] }\n      effect: allow\n      checks: [{ name: c, url: "https://a.example/" }, { name: c, url: "https://b.example/" }]`;
    expect(codes(twice)).toEqual(['error:lint/duplicate-check']);
  });

  it('warns that the checks of a deny rule never run', () => {
    expect(codes(`    - name: r\n      effect: deny\n      checks: [{ name: c, url: "https://a.example/" }]`)).toEqual(['warning:lint/check-on-deny']);
  });
});

describe('checksFor', () => {
  const set = setOf(
    policy(
      'gate',
      'acme',
      `    - name: deploys
      match: { tools: ["deploy.*"] }
      effect: allow
      checks: [{ name: change-freeze, url: "https://freeze.example.com/" }]
    - name: prod
      match: { tools: ["deploy.*"] }
      when: 'has(args.env) && args.env == "prod"'
      effect: require_approval
      approval: { approvers: { roles: [maintainer] } }
      checks: [{ name: ticket, url: "https://tickets.example.com/", onError: allow }]
    - name: no-delete
      match: { tools: ["deploy.delete"] }
      effect: deny`,
    ),
    policy('observe', 'acme', `    - name: watch\n      match: { tools: ["deploy.*"] }\n      effect: allow\n      checks: [{ name: shadow, url: "https://shadow.example.com/" }]`, 'mode: warn'),
  );
  const names = (action: ReturnType<typeof call>) => checksFor(set, action, decide(set, action)).map((c) => `${c.rule}/${c.name}`);

  it('names the checks of every matching enforce rule, in rule order, weaker effects included', () => {
    expect(names(call('acme/x', 'deploy.release', { args: { env: 'prod' } }))).toEqual(['deploys/change-freeze', 'prod/ticket']);
  });

  it('skips rules whose condition is false, warn-mode rules, and everything once the decision is a deny', () => {
    expect(names(call('acme/x', 'deploy.release', { args: { env: 'dev' } }))).toEqual(['deploys/change-freeze']);
    expect(names(call('acme/x', 'deploy.delete'))).toEqual([]);
    expect(names(call('other', 'deploy.release'))).toEqual([]);
  });
});
