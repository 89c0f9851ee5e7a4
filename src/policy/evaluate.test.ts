import { describe, expect, it } from 'vitest';
import { decide } from './evaluate.js';
import { call, policy, setOf, settings } from './test-helpers.js';

const allowAll = `    - { name: allow-all, effect: allow, match: { actions: [tool.call] } }`;

describe('combining effects', () => {
  it('lets an ancestor deny beat a descendant allow', () => {
    const set = setOf(
      policy('org-deny', 'acme', `    - { name: no-shell, match: { tools: ["shell.*"] }, effect: deny, message: no shell }`),
      policy('team-allow', 'acme/platform/api', `    - { name: shell-ok, match: { tools: ["shell.*"] }, effect: allow }`),
    );
    const d = decide(set, call('acme/platform/api', 'shell.run'));
    expect(d.effect).toBe('deny');
    expect(d.reasons).toEqual([expect.objectContaining({ policy: 'org-deny', rule: 'no-shell', effect: 'deny', message: 'no shell', scope: 'acme' })]);
  });

  it('lets a descendant deny tighten an ancestor allow', () => {
    const set = setOf(policy('org', 'acme', allowAll), policy('team', 'acme/x', `    - { name: no-deploy, match: { tools: ["deploy.*"] }, effect: deny }`));
    expect(decide(set, call('acme/x', 'deploy.release')).effect).toBe('deny');
    expect(decide(set, call('acme/y', 'deploy.release')).effect).toBe('allow');
  });

  it('ranks deny over require_approval over allow and reports only the deciding rules', () => {
    const rules = `    - { name: a, effect: allow }
    - { name: r, effect: require_approval, approval: { approvers: { roles: [maintainer] }, count: 2 } }
    - { name: d, effect: deny, match: { tools: ["x.*"] } }`;
    const set = setOf(policy('p', 'acme', rules));
    const d1 = decide(set, call('acme', 'x.y'));
    expect(d1.effect).toBe('deny');
    expect(d1.reasons.map((r) => r.rule)).toEqual(['d']);
    const d2 = decide(set, call('acme', 'y.z'));
    expect(d2.effect).toBe('require_approval');
    expect(d2.reasons.map((r) => r.rule)).toEqual(['r']);
    expect(d2.approval).toEqual([{ policy: 'p', rule: 'r', approvers: { roles: ['maintainer'] }, count: 2 }]);
  });
});

describe('scope defaults', () => {
  it('denies when nothing matches and no scope sets a default', () => {
    const d = decide(setOf(policy('p', 'other', allowAll)), call('acme/a', 't.x'));
    expect(d.effect).toBe('deny');
    expect(d.reasons[0]).toMatchObject({ policy: 'builtin', rule: 'default-deny' });
  });

  it('takes the nearest ancestor default', () => {
    const set = setOf(settings('acme', '{ defaultEffect: allow }'), settings('acme/secure', '{ defaultEffect: deny }'), policy('p', 'nowhere', allowAll));
    expect(decide(set, call('acme/web/site', 't.x'))).toMatchObject({ effect: 'allow', reasons: [{ rule: 'default-effect', scope: 'acme' }] });
    expect(decide(set, call('acme/secure/vault', 't.x'))).toMatchObject({ effect: 'deny', reasons: [{ rule: 'default-effect', scope: 'acme/secure' }] });
  });

  it('resolves time zone and default effect independently', () => {
    const set = setOf(
      settings('acme', '{ defaultEffect: allow }'),
      settings('acme/eu', '{ timezone: Europe/Berlin }'),
      policy('p', 'acme', `    - { name: night, effect: deny, when: "context.hour >= 22" }`),
    );
    // 21:30 UTC is 22:30 in Berlin in November (UTC+1).
    const at = { context: { time: '2026-11-24T21:30:00Z' } };
    expect(decide(set, call('acme/eu/app', 't.x', at)).effect).toBe('deny');
    expect(decide(set, call('acme/us/app', 't.x', at)).effect).toBe('allow');
  });
});

describe('include and exclude', () => {
  const set = setOf(
    settings('acme', '{ defaultEffect: allow }'),
    policy('p', ['acme/a', 'acme/b'], `    - { name: d, effect: deny }`, 'exclude: [acme/a/sandbox]'),
  );
  it('applies to every listed scope and below', () => {
    expect(decide(set, call('acme/a', 't.x')).effect).toBe('deny');
    expect(decide(set, call('acme/b/deep/er', 't.x')).effect).toBe('deny');
  });
  it('does not apply to siblings or to prefix look-alikes', () => {
    expect(decide(set, call('acme/c', 't.x')).effect).toBe('allow');
    expect(decide(set, call('acme/ab', 't.x')).effect).toBe('allow');
  });
  it('skips excluded subtrees', () => {
    expect(decide(set, call('acme/a/sandbox', 't.x')).effect).toBe('allow');
    expect(decide(set, call('acme/a/sandbox/x', 't.x')).effect).toBe('allow');
    expect(decide(set, call('acme/a/sandboxes', 't.x')).effect).toBe('deny');
  });
  it('counts a rule once when a policy lists a scope and its descendant', () => {
    const s = setOf(policy('p', ['acme', 'acme/a'], `    - { name: d, effect: deny }`));
    expect(decide(s, call('acme/a/b', 't.x')).reasons).toHaveLength(1);
  });
});

describe('modes', () => {
  it('never lets warn-mode rules change the outcome, and lists those that would have', () => {
    const set = setOf(
      policy('base', 'acme', allowAll),
      policy('trial', 'acme', `    - { name: no-x, match: { tools: ["x.*"] }, effect: deny, message: soon }\n    - { name: also-allow, effect: allow }`, 'mode: warn'),
    );
    const d = decide(set, call('acme', 'x.y'));
    expect(d.effect).toBe('allow');
    expect(d.reasons.map((r) => r.rule)).toEqual(['allow-all']);
    expect(d.warnings).toEqual([expect.objectContaining({ policy: 'trial', rule: 'no-x', mode: 'warn', wouldBe: 'deny', message: 'soon' })]);
  });

  it('reports a warn-mode allow that would have lifted a default deny', () => {
    const set = setOf(policy('trial', 'acme', `    - { name: open, effect: allow }`, 'mode: warn'));
    const d = decide(set, call('acme', 't.x'));
    expect(d.effect).toBe('deny');
    expect(d.warnings.map((w) => [w.rule, w.wouldBe])).toEqual([['open', 'allow']]);
  });

  it('ignores disabled policies entirely', () => {
    const set = setOf(settings('acme', '{ defaultEffect: allow }'), policy('off', 'acme', `    - { name: d, effect: deny }`, 'mode: disabled'));
    const d = decide(set, call('acme', 't.x'));
    expect(d.effect).toBe('allow');
    expect(d.warnings).toEqual([]);
  });
});

describe('match', () => {
  const set = setOf(
    settings('acme', '{ defaultEffect: allow }'),
    policy(
      'p',
      'acme',
      `    - { name: by-role, effect: deny, match: { roles: [intern] } }
    - { name: by-agent, effect: deny, match: { agents: ["bot-*"] } }
    - { name: by-server, effect: deny, match: { servers: ["prod-*"] } }
    - { name: by-kind, effect: deny, match: { actions: [resource.read] } }
    - { name: by-glob, effect: deny, match: { tools: ["*.exec"] } }`,
    ),
  );
  it('matches roles, agents, servers, kinds and tool globs', () => {
    expect(decide(set, call('acme', 'a.b', { principal: { id: 'i', roles: ['intern'] } })).reasons[0]!.rule).toBe('by-role');
    expect(decide(set, call('acme', 'a.b', { agent: { id: 'bot-7' } })).reasons[0]!.rule).toBe('by-agent');
    expect(decide(set, { kind: 'tool.call', scope: 'acme', tool: { server: 'prod-db', name: 'q' } }).reasons[0]!.rule).toBe('by-server');
    expect(decide(set, { kind: 'resource.read', scope: 'acme', resource: { uri: 'file:///x' } }).reasons[0]!.rule).toBe('by-kind');
    expect(decide(set, call('acme', 'shell.sub.exec')).reasons[0]!.rule).toBe('by-glob');
  });
  it('matches resource URIs by glob and exposes `resource` to CEL', () => {
    const s = setOf(
      settings('acme', '{ defaultEffect: allow }'),
      policy('r', 'acme', `    - { name: no-etc, effect: deny, match: { actions: [resource.read], resources: ["file:///etc/*"] } }\n    - { name: no-secrets, effect: deny, when: 'has(resource.uri) && resource.uri.contains("secret")' }`),
    );
    const read = (uri: string) => decide(s, { kind: 'resource.read', scope: 'acme', resource: { uri, server: 'fs' } });
    expect(read('file:///etc/passwd').reasons[0]!.rule).toBe('no-etc');
    expect(read('file:///home/a/secret.txt').reasons[0]!.rule).toBe('no-secrets');
    expect(read('file:///home/a/notes.txt').effect).toBe('allow');
    expect(decide(s, call('acme', 'file.etc')).effect).toBe('allow');
  });

  it('matches tool and server names whatever their case, so a deny cannot be dodged by case', () => {
    const s = setOf(
      settings('acme', '{ defaultEffect: allow }'),
      policy(
        'guard',
        'acme',
        `    - { name: no-wipe, effect: deny, match: { tools: ["*delete_all"] } }
    - { name: no-shell, effect: deny, match: { tools: ["shell.*"] } }
    - { name: exact, effect: deny, match: { tools: ["db.drop"] } }
    - { name: prod, effect: deny, match: { servers: ["prod-*"] } }`,
      ),
    );
    const rule = (a: ReturnType<typeof call>) => decide(s, a).reasons[0]!.rule;
    // The upstream names its tool; the policy author cannot know its case.
    expect(rule(call('acme', 'Delete_All'))).toBe('no-wipe');
    expect(rule(call('acme', 'files.DELETE_ALL'))).toBe('no-wipe');
    // The rule index is keyed by the folded first segment, so literal prefixes fold too.
    expect(rule(call('acme', 'Shell.Run'))).toBe('no-shell');
    expect(rule(call('acme', 'SHELL.run'))).toBe('no-shell');
    expect(rule(call('acme', 'DB.Drop'))).toBe('exact');
    expect(rule({ kind: 'tool.call', scope: 'acme', tool: { server: 'PROD-db', name: 'q' } })).toBe('prod');
    expect(decide(s, call('acme', 'db.dropped')).effect).toBe('allow');
  });

  it('matches agent ids and resource URIs exactly', () => {
    // Agent ids are Warden's own; URI paths are case-sensitive.
    expect(decide(set, call('acme', 'a.b', { agent: { id: 'BOT-7' } })).effect).toBe('allow');
    const s = setOf(settings('acme', '{ defaultEffect: allow }'), policy('r', 'acme', `    - { name: no-etc, effect: deny, match: { resources: ["file:///etc/*"] } }`));
    expect(decide(s, { kind: 'resource.read', scope: 'acme', resource: { uri: 'file:///ETC/passwd' } }).effect).toBe('allow');
  });

  it('does not match when the constrained field is absent or different', () => {
    expect(decide(set, call('acme', 'a.b', { principal: { id: 'p', roles: ['developer'] }, agent: { id: 'human-1' } })).effect).toBe('allow');
    expect(decide(set, { kind: 'tool.list', scope: 'acme' }).effect).toBe('allow');
  });
});

describe('conditions', () => {
  it('sees args, tool, principal, context and findings', () => {
    const set = setOf(
      settings('acme', '{ defaultEffect: allow }'),
      policy(
        'p',
        'acme',
        `    - { name: prod, effect: require_approval, when: 'has(args.environment) && args.environment == "production"' }
    - { name: big, effect: deny, when: 'has(args.count) && args.count > 100' }
    - { name: injected, effect: deny, when: 'findings.exists(f, f.category == "prompt_injection" && f.score >= 0.8)' }
    - { name: risky, effect: deny, when: 'has(tool.risk) && tool.risk == "critical" && !("admin" in principal.roles)' }`,
      ),
    );
    expect(decide(set, call('acme', 'd.r', { args: { environment: 'production' } })).effect).toBe('require_approval');
    expect(decide(set, call('acme', 'd.r', { args: { environment: 'staging', count: 101 } })).reasons[0]!.rule).toBe('big');
    expect(decide(set, call('acme', 'd.r', { args: { count: 100 } })).effect).toBe('allow');
    const finding = { category: 'prompt_injection' as const, type: 'direct', score: 0.9, severity: 'high' as const, start: 0, end: 3, detector: 't', evidence: '…' };
    expect(decide(set, call('acme', 'd.r'), { findings: [finding] }).reasons[0]!.rule).toBe('injected');
    expect(decide(set, call('acme', 'd.r'), { findings: [{ ...finding, score: 0.5 }] }).effect).toBe('allow');
    const critical = { kind: 'tool.call' as const, scope: 'acme', tool: { server: 's', name: 'x', risk: 'critical' as const } };
    expect(decide(set, { ...critical, principal: { id: 'a', roles: ['dev'] } }).reasons[0]!.rule).toBe('risky');
    expect(decide(set, { ...critical, principal: { id: 'a', roles: ['admin'] } }).effect).toBe('allow');
  });

  it('derives hour and weekday from context.time', () => {
    const set = setOf(
      settings('acme', '{ defaultEffect: allow }'),
      policy('p', 'acme', `    - { name: weekend, effect: deny, when: 'context.weekday in ["saturday", "sunday"]' }\n    - { name: night, effect: deny, when: 'context.hour < 8' }`),
    );
    expect(decide(set, call('acme', 't.x', { context: { time: '2026-11-28T12:00:00Z' } })).reasons[0]!.rule).toBe('weekend');
    expect(decide(set, call('acme', 't.x', { context: { time: '2026-11-24T07:59:59Z' } })).reasons[0]!.rule).toBe('night');
    expect(decide(set, call('acme', 't.x', { context: { time: '2026-11-24T08:00:00Z' } })).effect).toBe('allow');
    expect(decide(set, call('acme', 't.x'), { now: new Date('2026-11-24T03:00:00Z') }).reasons[0]!.rule).toBe('night');
  });

  it('fails closed: an erroring deny condition denies, an erroring allow condition does not allow', () => {
    const set = setOf(
      settings('acme', '{ defaultEffect: deny }'),
      policy('p', 'acme', `    - { name: env-deny, effect: deny, match: { tools: ["d.*"] }, when: 'args.environment == "production"' }
    - { name: env-allow, effect: allow, match: { tools: ["a.*"] }, when: 'args.environment == "dev"' }`),
    );
    const d = decide(set, call('acme', 'd.x'));
    expect(d.effect).toBe('deny');
    expect(d.reasons[0]!.rule).toBe('env-deny');
    expect(d.errors).toEqual([expect.objectContaining({ policy: 'p', rule: 'env-deny', treatedAs: true, message: expect.stringContaining('environment') })]);
    const a = decide(set, call('acme', 'a.x'));
    expect(a.effect).toBe('deny');
    expect(a.errors?.[0]).toMatchObject({ rule: 'env-allow', treatedAs: false });
  });

  it('reports a failing condition shared by several rules for each of them, each failing its own way', () => {
    const when = `when: 'args.environment == "production"'`;
    const set = setOf(
      settings('acme', '{ defaultEffect: allow }'),
      policy('p', 'acme', `    - { name: d1, effect: deny, ${when} }\n    - { name: a1, effect: allow, ${when} }\n    - { name: r1, effect: require_approval, ${when} }\n    - { name: d2, effect: deny, ${when} }`),
      policy('q', 'acme/x', `    - { name: ok, effect: allow, when: 'args.environment == "production"' }`),
    );
    const d = decide(set, call('acme/x', 't.x'));
    expect(d.effect).toBe('deny');
    expect(d.reasons.map((r) => r.rule)).toEqual(['d1', 'd2']);
    // The deny rules matched (failing closed), so the weaker rules could change nothing: their
    // conditions did not run and are not listed.
    expect(d.errors?.map((e) => [e.policy, e.rule, e.treatedAs])).toEqual([
      ['p', 'd1', true],
      ['p', 'd2', true],
    ]);
    const allows = setOf(
      settings('acme', '{ defaultEffect: deny }'),
      policy('p', 'acme', `    - { name: a1, effect: allow, ${when} }\n    - { name: a2, effect: allow }`),
      policy('q', 'acme/x', `    - { name: a3, effect: allow, ${when} }`),
    );
    const a = decide(allows, call('acme/x', 't.x'));
    expect(a).toMatchObject({ effect: 'allow', reasons: [{ rule: 'a2' }] });
    expect(a.errors?.map((e) => [e.policy, e.rule, e.treatedAs])).toEqual([
      ['p', 'a1', false],
      ['q', 'a3', false],
    ]);
    const ok = decide(set, call('acme/x', 't.x', { args: { environment: 'dev' } }));
    expect(ok).toMatchObject({ effect: 'allow', reasons: [{ rule: 'default-effect' }] });
    expect(ok.errors).toBeUndefined();
  });

  it('fails closed on a wrong type at run time', () => {
    const set = setOf(settings('acme', '{ defaultEffect: allow }'), policy('p', 'acme', `    - { name: n, effect: deny, when: 'args.n > 3' }`));
    const d = decide(set, call('acme', 't.x', { args: { n: 'many' } }));
    expect(d.effect).toBe('deny');
    expect(d.errors?.[0]?.message).toMatch(/overload/);
  });

  it('runs re2Matches in linear time on a pattern that would make matches() backtrack', () => {
    const set = setOf(settings('acme', '{ defaultEffect: allow }'), policy('p', 'acme', `    - { name: n, effect: deny, when: 'args.s.re2Matches("^(a+)+$")' }`));
    const hostile = `${'a'.repeat(5000)}!`;
    const t0 = performance.now();
    expect(decide(set, call('acme', 't.x', { args: { s: hostile } })).effect).toBe('allow');
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(decide(set, call('acme', 't.x', { args: { s: 'aaaa' } })).effect).toBe('deny');
  });
});

describe('conditions that cannot change the decision', () => {
  // A condition that throws whenever it runs (args.n is a string): listed in `errors` exactly when it ran.
  const throws = `when: 'args.n > 3'`;
  const withN = { args: { n: 'many' } };

  it('does not run the conditions of rules weaker than a deny that matched', () => {
    const set = setOf(
      settings('acme', '{ defaultEffect: allow }'),
      policy('p', 'acme', `    - { name: a, effect: allow, ${throws} }\n    - { name: r, effect: require_approval, ${throws} }\n    - { name: d, effect: deny, match: { tools: ["x.*"] } }`),
      policy('w', 'acme', `    - { name: wa, effect: allow, ${throws} }\n    - { name: wd, effect: deny, ${throws} }`, 'mode: warn'),
    );
    const d = decide(set, call('acme', 'x.y', withN));
    expect(d).toMatchObject({ effect: 'deny', reasons: [{ rule: 'd' }], warnings: [] });
    expect(d.errors).toBeUndefined();
    // Without the deny, the same conditions run, fail closed and are listed, in rule order.
    const r = decide(set, call('acme', 'y.z', withN));
    expect(r.effect).toBe('require_approval');
    expect(r.reasons.map((x) => x.rule)).toEqual(['r']);
    expect(r.warnings.map((x) => [x.rule, x.wouldBe])).toEqual([['wd', 'deny']]);
    expect(r.errors?.map((e) => [e.policy, e.rule, e.treatedAs])).toEqual([
      ['p', 'r', true],
      ['w', 'wd', true],
    ]);
  });

  it('still runs every deny condition once a deny matched, since each is a reason', () => {
    const set = setOf(policy('p', 'acme', `    - { name: d1, effect: deny }\n    - { name: d2, effect: deny, when: 'args.env == "prod"' }\n    - { name: d3, effect: deny, ${throws} }`));
    const d = decide(set, call('acme', 't.x', { args: { env: 'prod', n: 'many' } }));
    expect(d.reasons.map((x) => x.rule)).toEqual(['d1', 'd2', 'd3']);
    expect(d.errors?.map((e) => e.rule)).toEqual(['d3']);
  });

  it('reports warn-mode rules that would have changed the effect when no stronger rule matched', () => {
    const set = setOf(
      settings('acme', '{ defaultEffect: deny }'),
      policy('p', 'acme', `    - { name: a, effect: allow, when: 'args.env == "dev"' }`),
      policy('w', 'acme', `    - { name: wd, effect: deny, when: 'args.env == "dev"' }\n    - { name: wa, effect: allow, when: 'args.env == "dev"' }\n    - { name: wx, effect: allow, ${throws} }`, 'mode: warn'),
    );
    const allowed = decide(set, call('acme', 't.x', { args: { env: 'dev', n: 'many' } }));
    expect(allowed.effect).toBe('allow');
    expect(allowed.warnings.map((x) => [x.rule, x.wouldBe])).toEqual([['wd', 'deny']]);
    // A warn-mode allow cannot change an allow: its condition does not run.
    expect(allowed.errors).toBeUndefined();
    const denied = decide(set, call('acme', 't.x', { args: { env: 'prod', n: 'many' } }));
    expect(denied).toMatchObject({ effect: 'deny', reasons: [{ rule: 'default-effect' }] });
    // Against the default deny, warn-mode allows run (one would lift it); the failing one is listed.
    expect(denied.warnings).toEqual([]);
    expect(denied.errors?.map((e) => [e.rule, e.treatedAs])).toEqual([['wx', false]]);
  });

  it('gives reasons as before on mixed sets: every deciding rule in rule order, the same on every decision, frozen', () => {
    const set = setOf(
      policy('org', 'acme', `    - { name: a1, effect: allow, message: ok }\n    - { name: d1, effect: deny, match: { tools: ["x.*"] }, when: 'args.env == "prod"' }`),
      policy('two', ['acme/a', 'acme/b'], `    - { name: d2, effect: deny, match: { tools: ["x.*"] } }\n    - { name: a2, effect: allow }`),
      policy('team', 'acme/b', `    - { name: d3, effect: deny, message: no x, match: { tools: ["x.*"] } }`),
    );
    const prod = { args: { env: 'prod' } };
    const d = decide(set, call('acme/b/c', 'x.y', prod));
    expect(d.reasons).toEqual([
      { policy: 'org', version: 1, rule: 'd1', effect: 'deny', scope: 'acme', mode: 'enforce' },
      { policy: 'two', version: 1, rule: 'd2', effect: 'deny', scope: 'acme/b', mode: 'enforce' },
      { policy: 'team', version: 1, rule: 'd3', effect: 'deny', message: 'no x', scope: 'acme/b', mode: 'enforce' },
    ]);
    expect(JSON.stringify(d.reasons[2])).toBe('{"policy":"team","version":1,"rule":"d3","effect":"deny","message":"no x","scope":"acme/b","mode":"enforce"}');
    expect(decide(set, call('acme/a', 'x.y', prod)).reasons.map((r) => [r.rule, r.scope])).toEqual([
      ['d1', 'acme'],
      ['d2', 'acme/a'],
    ]);
    expect(decide(set, call('acme/b', 'y.z')).reasons.map((r) => r.rule)).toEqual(['a1', 'a2']);
    // A reason is shared between decisions, so it must not be changed.
    expect(Object.isFrozen(d.reasons[0])).toBe(true);
    expect(decide(set, call('acme/b/c', 'x.y', prod)).reasons[0]).toBe(d.reasons[0]);
  });
});
