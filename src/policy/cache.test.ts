import { describe, expect, it } from 'vitest';
import type { Finding } from '../domain/index.js';
import { decide, decideOver } from './evaluate.js';
import { call, diagnosticsOf, policy, setOf, settings } from './test-helpers.js';

// A rule's `cache:` marks the allow it gives as reusable by an enforcement point (the SDK's local cache).
describe('cacheable allows', () => {
  it('marks an allow with the rule’s lifetime', () => {
    const set = setOf(policy('p', 'acme', `    - { name: reads, effect: allow, match: { tools: ["files.read"] }, cache: 30s }`));
    expect(decide(set, call('acme/x', 'files.read')).cache).toEqual({ ttlMs: 30_000 });
  });

  it('takes the shortest lifetime when several rules allow', () => {
    const set = setOf(
      policy('a', 'acme', `    - { name: long, effect: allow, cache: 5m }`),
      policy('b', 'acme/x', `    - { name: short, effect: allow, match: { tools: ["files.*"] }, cache: 500ms }`),
    );
    expect(decide(set, call('acme/x', 'files.read')).cache).toEqual({ ttlMs: 500 });
    expect(decide(set, call('acme/y', 'files.read')).cache).toEqual({ ttlMs: 300_000 });
  });

  it('marks nothing when one of the allowing rules sets no lifetime', () => {
    const set = setOf(policy('a', 'acme', `    - { name: cached, effect: allow, cache: 1m }`), policy('b', 'acme', `    - { name: plain, effect: allow, match: { tools: ["files.*"] } }`));
    expect(decide(set, call('acme/x', 'files.read')).cache).toBeUndefined();
    expect(decide(set, call('acme/x', 'net.get')).cache).toEqual({ ttlMs: 60_000 });
  });

  it('never marks a deny, an approval or a default allow', () => {
    const set = setOf(
      settings('acme', '{ defaultEffect: allow }'),
      policy(
        'p',
        'acme',
        `    - { name: ok, effect: allow, cache: 1m }
    - { name: no-shell, effect: deny, match: { tools: ["shell.*"] } }
    - { name: deploys, effect: require_approval, match: { tools: ["deploy.*"] } }`,
      ),
      policy('q', 'other', `    - { name: other-ok, effect: allow, match: { tools: ["z.*"] }, cache: 1m }`),
    );
    expect(decide(set, call('acme/x', 'shell.run'))).toMatchObject({ effect: 'deny' });
    expect(decide(set, call('acme/x', 'shell.run')).cache).toBeUndefined();
    expect(decide(set, call('acme/x', 'deploy.release')).cache).toBeUndefined();
    // `other` has no default, acme's default allow applies to acme only: the default is never cacheable.
    expect(decide(setOf(settings('acme', '{ defaultEffect: allow }'), policy('q', 'other', `    - { name: z, effect: allow, cache: 1m }`)), call('acme/x', 'a.b'))).not.toHaveProperty('cache');
  });

  it('ignores `cache` on a rule that does not allow', () => {
    const set = setOf(policy('p', 'acme', `    - { name: ok, effect: allow, cache: 1m }\n    - { name: no, effect: deny, match: { tools: ["x.*"] }, cache: 1m }`));
    expect(set.rules.find((r) => r.name === 'no')!.cacheMs).toBeUndefined();
    expect(decide(set, call('acme', 'x.y')).cache).toBeUndefined();
  });

  it('marks nothing when findings or a failed condition shaped the decision', () => {
    const set = setOf(policy('p', 'acme', `    - { name: ok, effect: allow, cache: 1m }\n    - { name: broken, effect: deny, when: "args.missing == 1" }`));
    const d = decide(set, call('acme', 'a.b', { args: {} }));
    // The deny's condition failed closed: the decision is a deny anyway, and carries no mark.
    expect(d.effect).toBe('deny');
    expect(d.cache).toBeUndefined();
    const quiet = setOf(policy('p', 'acme', `    - { name: ok, effect: allow, cache: 1m }\n    - { name: maybe, effect: allow, when: "args.missing == 1", cache: 1m }`));
    const e = decide(quiet, call('acme', 'a.b', { args: {} }));
    expect(e.errors).toHaveLength(1);
    expect(e.cache).toBeUndefined();
    const finding: Finding = { category: 'pii', type: 'email', score: 0.9, severity: 'low', start: 0, end: 3, detector: 'pii' } as Finding;
    const plain = setOf(policy('p', 'acme', `    - { name: ok, effect: allow, cache: 1m }`));
    expect(decide(plain, call('acme', 'a.b')).cache).toEqual({ ttlMs: 60_000 });
    expect(decide(plain, call('acme', 'a.b'), { findings: [finding] }).cache).toBeUndefined();
  });

  it('does not let a warn-mode rule’s lifetime count', () => {
    const set = setOf(policy('w', 'acme', `    - { name: ok, effect: allow, cache: 1m }`, 'mode: warn'), settings('acme', '{ defaultEffect: allow }'));
    expect(decide(set, call('acme', 'a.b')).cache).toBeUndefined();
  });

  it('gives the reference evaluator the same mark', () => {
    const set = setOf(policy('p', 'acme', `    - { name: ok, effect: allow, cache: 2s }`));
    expect(decideOver(set, call('acme', 'a.b'), set.rules)).toEqual(decide(set, call('acme', 'a.b')));
  });

  it('refuses a lifetime that is not a duration', () => {
    expect(diagnosticsOf(policy('p', 'acme', `    - { name: ok, effect: allow, cache: soon }`)).some((d) => d.severity === 'error')).toBe(true);
  });
});
