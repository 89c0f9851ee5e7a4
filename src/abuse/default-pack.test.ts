import { describe, expect, it } from 'vitest';
import type { Action, AuditEvent, Finding } from '../domain/index.js';
import { newAuditEvent } from '../domain/index.js';
import { DEFAULT_PACK } from './default-pack.js';
import { loadAbuseSources, type AbuseRuleSource } from './rule-compile.js';
import { decided, setup } from './test-support.js';

const START = Date.parse('2026-12-07T10:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;

/** One rule of the pack, alone, in the mode asked (the pack's text with `mode: shadow` replaced). */
function rule(name: string, mode: 'shadow' | 'enforce' = 'shadow'): AbuseRuleSource {
  for (const { file, text } of DEFAULT_PACK) {
    const doc = text.split(/^---$/m).find((d) => d.includes(`\n  name: ${name}\n`));
    if (doc) return { file, text: mode === 'shadow' ? doc : doc.replace('mode: shadow', 'mode: enforce') };
  }
  throw new Error(`no rule ${name} in the default pack`);
}

type Harness = ReturnType<typeof setup>;
const shadowed = (t: Harness, name: string) => t.events.filter((e) => e.type === 'abuse.verdict.shadowed' && e.details!.rule === name);
const applied = (t: Harness, name: string) => t.events.filter((e) => e.type === 'abuse.verdict.applied' && e.details!.rule === name);
const nothingApplied = (t: Harness) => expect([t.labels, t.mitigations, t.cases, t.killed, t.suspended]).toEqual([[], [], [], [], []]);
const call = (tool: string, args: Record<string, unknown>, extra: Partial<NonNullable<Action['tool']>> = {}, agent = 'bot'): Action => ({ kind: 'tool.call', scope: 'acme/web', agent: { id: agent }, tool: { server: tool.split('.')[0]!, name: tool.split('.')[1]!, ...extra }, args });
const screen = (t: Harness, action: Action, opts: { sessionId?: string; findings?: Finding[] } = {}) => t.engine.screen({ tenantId: 'acme', action, sessionId: opts.sessionId ?? 's-1', findings: opts.findings ?? [] });
const finding = (category: Finding['category'], type: string, score: number): Finding => ({ category, type, score, severity: 'high', start: 0, end: 1, detector: 'test', evidence: '***' });
const exec = (agent: string, at: number) => decided(agent, 'shell.run', new Date(at), { details: { action: { tool: { capabilities: ['exec'] } } } });
const create = (agent: string, at: number, digest: string) => decided(agent, 'github.create_issue', new Date(at), { payload: { argsDigest: digest } });
const detected = (findings: Finding[], at = START): AuditEvent =>
  newAuditEvent({ tenantId: 'acme', scope: 'acme/web', category: 'detection', type: 'finding.detected', outcome: 'success', actor: { type: 'agent', id: 'bot', sessionId: 's-1' }, agent: { id: 'bot' }, target: { kind: 'tool', server: 'fs', name: 'read_file' }, action: { kind: 'tool.call' }, findings, details: { source: 'output' } }, new Date(at));
const authFailure = (type: string, ip: string, at: number): AuditEvent =>
  newAuditEvent({ tenantId: 'acme', scope: 'acme', category: 'auth', type, outcome: 'denied', actor: { type: 'user', id: 'u-1', ip }, target: { kind: 'route', name: 'GET /api/agents' } }, new Date(at));

async function feed(t: Harness, events: AuditEvent[]): Promise<void> {
  t.engine.observe(events);
  await t.engine.idle();
}

describe('the default abuse pack', () => {
  it('loads with no diagnostics; every rule is in shadow mode, labels expire and cases propose something', () => {
    const r = loadAbuseSources(DEFAULT_PACK);
    expect(r.diagnostics).toEqual([]);
    const rules = r.set!.rules;
    expect(rules.map((x) => x.name)).toEqual([
      'cryptomining-command',
      'sustained-exec',
      'bulk-duplicate-creates',
      'near-duplicate-posts',
      'mass-mentions',
      'call-rate-spike',
      'new-destinations',
      'auth-failures',
      'secret-read',
      'exfil-after-sensitive-read',
      'poisoned-tool-seen',
      'poisoned-follow-through',
    ]);
    for (const x of rules) {
      expect([x.name, x.mode]).toEqual([x.name, 'shadow']);
      expect(x.source).toMatch(/^default-pack\/[a-z-]+\.yaml$/);
      expect(x.reason.length).toBeGreaterThan(20);
      for (const v of x.verdicts) {
        if (v.kind === 'label') expect([x.name, v.forMs]).toEqual([x.name, expect.any(Number)]);
        if (v.kind === 'review') expect([x.name, v.propose.length]).toEqual([x.name, expect.any(Number)]);
        if (v.kind === 'review') expect(v.propose.length).toBeGreaterThan(0);
      }
    }
    // Each rule, extracted alone as the tests below use it, is the rule the pack holds.
    for (const x of rules) expect(loadAbuseSources([rule(x.name)]).set!.rules.map((y) => y.whenSource)).toEqual([x.whenSource]);
  });

  it('a quiet day of ordinary work gives no verdict from any rule', async () => {
    const t = setup(DEFAULT_PACK);
    const events: AuditEvent[] = [];
    for (let i = 0; i < 300; i++) events.push(decided('bot', ['fs.read_file', 'github.list_issues', 'shell.run'][i % 3]!, new Date(START + i * 20_000)));
    await feed(t, events);
    for (const text of ['npm test', 'git log --oneline -5', 'Fixes the login page (see @alice)']) await screen(t, call('shell.run', { command: text }, { capabilities: ['exec'] }));
    expect(t.events).toEqual([]);
  });
});

describe('cryptomining-command', () => {
  const POSITIVES = [
    ['a miner binary with flags', './xmrig -o pool.example.net:3333 -u 44AFFq5kSiGBoZ -p x'],
    ['a stratum URL', 'pool: "stratum+tcp://eth.example.org:4444"'],
    ['a TLS stratum URL', 'connect stratum+ssl://rx.example.io:443'],
    ["xmrig's donate flag", 'nohup /tmp/.cache/kworker --donate-level 1 &'],
    ['a pool host with its port', 'curl -s xmr-eu1.nanopool.org:14433'],
    ['a miner alone on a line', 'cd /tmp\n/tmp/.x/minerd\n'],
    ['t-rex with flags', 't-rex -a kawpow -o rvn.example.com:3333'],
  ] as const;

  it.each(POSITIVES)('hits %s, in shadow mode only recording it', async (_what, command) => {
    const t = setup([rule('cryptomining-command')]);
    const r = await screen(t, call('shell.exec', { command }));
    expect(r.refusal).toBeUndefined();
    expect(shadowed(t, 'cryptomining-command')).toHaveLength(1);
    expect(shadowed(t, 'cryptomining-command')[0]!.details!.verdicts).toEqual([
      'would deny agent `bot` for 3600 s',
      'would label agent `bot` `miner` (bad) for 86400 s',
      'would kill the live sessions of agent `bot`',
      'would open a case on agent `bot`',
    ]);
    nothingApplied(t);
  });

  it('hits a strong cryptomining finding whatever the text', async () => {
    const t = setup([rule('cryptomining-command')]);
    await screen(t, call('ci.run', { script: 'build.sh' }), { findings: [finding('cryptomining', 'stratum_url', 0.95)] });
    expect(shadowed(t, 'cryptomining-command')).toHaveLength(1);
  });

  const NEGATIVES = [
    ['stratum as a word in prose', 'The upper stratum of the rock holds older layers than the stratum below it.'],
    ['data mining', 'Run the data mining job over last week and email the miner report to ops.'],
    ['minerals', 'Summarise the minerals found in the survey: quartz, feldspar, mica.'],
    [
      'git log output',
      'commit 9fceb02d0ae598e95dc970b74767f19372d61af8\nAuthor: Dana Smith <dana@example.com>\nDate:   Mon Dec 7 10:00:00 2026 +0000\n\n    Remove xmrig from the CI image; block stratum in the proxy\n\ncommit 1a410efbd13591db07496601ebc7a059dd55cfe9\nMerge: 3e1b2c 7d9f0a\n\n    Merge branch feature/miner-stats (data mining dashboards)\n',
    ],
    ['a pool site named without a port', 'what is supportxmr.com and nanopool.org'],
    ['the dinosaur', 'Draw a T-Rex on a skateboard'],
  ] as const;

  it.each(NEGATIVES)('does not hit %s', async (_what, text) => {
    const t = setup([rule('cryptomining-command')]);
    await screen(t, call('shell.exec', { text }));
    expect(t.events).toEqual([]);
  });

  it('does not hit a weak finding (a miner named once scores 0.85)', async () => {
    const t = setup([rule('cryptomining-command')]);
    await screen(t, call('fs.write_file', { content: 'notes' }), { findings: [finding('cryptomining', 'miner_binary', 0.85)] });
    expect(t.events).toEqual([]);
  });

  it('in enforce mode refuses the call, bars the agent for an hour, labels it a day, kills its sessions and opens a case proposing suspension', async () => {
    const t = setup([rule('cryptomining-command', 'enforce')]);
    const r = await screen(t, call('shell.exec', { command: './xmrig -o pool.supportxmr.com:443 -u 44AF' }));
    expect(r.refusal).toMatchObject({ policy: 'abuse', rule: 'cryptomining-command', effect: 'deny' });
    expect(r.labels.agent).toEqual(['miner']);
    expect(t.mitigations.map((m) => [m.kind, m.entity, Date.parse(m.until) - Date.parse(m.createdAt)])).toEqual([
      ['deny', { kind: 'agent', id: 'bot' }, HOUR],
      ['kill', { kind: 'agent', id: 'bot' }, MIN],
    ]);
    expect(t.labels.map((l) => [l.name, l.connotation, Date.parse(l.expiresAt!) - Date.parse(l.createdAt)])).toEqual([['miner', 'bad', 24 * HOUR]]);
    expect(t.killed).toEqual(['bot']);
    expect(t.cases).toMatchObject([{ category: 'cryptomining', severity: 'critical', subject: { kind: 'agent', id: 'bot' }, proposed: [{ kind: 'suspend' }] }]);
    // The next call, harmless, is refused by the deny.
    expect((await screen(t, call('fs.read_file', { path: 'a' }))).refusal!.message).toMatch(/barred until/);
  });
});

describe('sustained-exec', () => {
  it('hits the 120th exec call in 10 minutes; calls to other tools do not count', async () => {
    const t = setup([rule('sustained-exec')]);
    const events: AuditEvent[] = [];
    for (let i = 0; i < 120; i++) events.push(exec('bot', START + i * 5_000), decided('bot', 'fs.read_file', new Date(START + i * 5_000 + 1)));
    await feed(t, events);
    const hits = shadowed(t, 'sustained-exec');
    expect(hits).toHaveLength(1);
    expect(hits[0]!.details).toMatchObject({ features: { execs: 120 }, verdicts: ['would label agent `bot` `sustained-exec` (neutral) for 3600 s', 'would open a case on agent `bot`'] });
    expect(hits[0]!.correlationId).toBe(events[238]!.id);
    nothingApplied(t);
  });

  it('does not hit 119 in the window, nor 120 spread over 30 minutes', async () => {
    const t = setup([rule('sustained-exec')]);
    const events: AuditEvent[] = [];
    for (let i = 0; i < 119; i++) events.push(exec('a', START + i * 5_000));
    for (let i = 0; i < 120; i++) events.push(exec('b', START + i * 15_000));
    await feed(t, events);
    expect(t.events).toEqual([]);
  });

  it('in enforce mode labels the agent (neutral, an hour) and opens one case proposing a throttle', async () => {
    const t = setup([rule('sustained-exec', 'enforce')]);
    await feed(t, Array.from({ length: 130 }, (_, i) => exec('bot', START + i * 4_000)));
    expect(t.labels.map((l) => [l.entity.id, l.name, l.connotation, Date.parse(l.expiresAt!) - Date.parse(l.createdAt)])).toEqual([['bot', 'sustained-exec', 'neutral', HOUR]]);
    expect(t.cases).toHaveLength(1);
    expect(t.cases[0]!.proposed).toEqual([{ kind: 'throttle', limit: 20, windowMs: MIN, forMs: HOUR }]);
    expect(t.mitigations).toEqual([]);
  });
});

describe('bulk-duplicate-creates', () => {
  it('hits 20 creates in 10 minutes with 5 argument sets', async () => {
    const t = setup([rule('bulk-duplicate-creates')]);
    await feed(t, Array.from({ length: 20 }, (_, i) => create('bot', START + i * 10_000, `d${i % 5}`)));
    const hits = shadowed(t, 'bulk-duplicate-creates');
    expect(hits.map((h) => h.details!.features)).toEqual([{ creates: 20, variants: 5 }]);
    nothingApplied(t);
  });

  it('does not hit 20 creates with 20 argument sets, 20 with 6, nor duplicates to a tool that creates nothing', async () => {
    const t = setup([rule('bulk-duplicate-creates')]);
    await feed(t, Array.from({ length: 20 }, (_, i) => create('a', START + i * 10_000, `d${i}`)));
    await feed(t, Array.from({ length: 20 }, (_, i) => create('b', START + i * 10_000, `d${i % 6}`)));
    await feed(t, Array.from({ length: 40 }, (_, i) => decided('c', 'db.postgres_query', new Date(START + i * 1_000), { payload: { argsDigest: 'same' } })));
    expect(t.events).toEqual([]);
  });

  it('in enforce mode labels the agent once and opens one case proposing 5 a minute for an hour', async () => {
    const t = setup([rule('bulk-duplicate-creates', 'enforce')]);
    await feed(t, Array.from({ length: 24 }, (_, i) => create('bot', START + i * 10_000, 'same')));
    expect(t.labels.map((l) => [l.entity.id, l.name, l.connotation, Date.parse(l.expiresAt!) - Date.parse(l.createdAt)])).toEqual([['bot', 'bulk-duplicates', 'bad', HOUR]]);
    expect(t.cases.map((c) => [c.category, c.proposed])).toEqual([['spam', [{ kind: 'throttle', limit: 5, windowMs: MIN, forMs: HOUR }]]]);
    expect(applied(t, 'bulk-duplicate-creates')).toHaveLength(1);
    expect(t.mitigations).toEqual([]);
  });
});

describe('near-duplicate-posts', () => {
  const post = (text: string) => call('slack.post_message', { channel: 'C042', text });

  it('hits the 15th post of one template (numbers and tracking links differ)', async () => {
    const t = setup([rule('near-duplicate-posts')]);
    for (let i = 0; i < 15; i++) {
      expect((await screen(t, post(`Get ${100 + i} free followers today! https://promo.example/r/${i}?utm=${i * 7}`))).refusal).toBeUndefined();
      t.advance(10_000);
    }
    expect(shadowed(t, 'near-duplicate-posts').map((h) => h.details!.features)).toEqual([{ posts: 15, templates: 1 }]);
    nothingApplied(t);
  });

  it('does not hit 15 one-word replies (texts under 16 characters carry no template)', async () => {
    const t = setup([rule('near-duplicate-posts')]);
    for (let i = 0; i < 15; i++) await screen(t, post('thanks!'));
    expect(t.events).toEqual([]);
  });

  it('does not hit 15 genuinely different posts', async () => {
    const t = setup([rule('near-duplicate-posts')]);
    const topics = ['build', 'deploy', 'lunch', 'outage', 'review', 'standup', 'release', 'budget', 'hiring', 'security', 'roadmap', 'offsite', 'metrics', 'oncall', 'retro'];
    for (const topic of topics) {
      await screen(t, post(`Update on ${topic}: notes are in the doc for ${topic}, ask me anything about ${topic}.`));
      t.advance(10_000);
    }
    expect(t.events).toEqual([]);
  });

  it('in enforce mode labels the agent and opens a case proposing a throttle, without refusing the post', async () => {
    const t = setup([rule('near-duplicate-posts', 'enforce')]);
    const outcomes = [];
    for (let i = 0; i < 16; i++) outcomes.push((await screen(t, post(`Buy now, only ${i} left: https://shop.example/p/${i}`))).refusal);
    expect(outcomes.every((o) => o === undefined)).toBe(true);
    expect(t.labels.map((l) => [l.name, Date.parse(l.expiresAt!) - Date.parse(l.createdAt)])).toEqual([['near-duplicates', HOUR]]);
    expect(t.cases.map((c) => c.proposed)).toEqual([[{ kind: 'throttle', limit: 5, windowMs: MIN, forMs: HOUR }]]);
  });
});

describe('mass-mentions', () => {
  const mentions = (n: number) => Array.from({ length: n }, (_, i) => `@user_${i}`).join(' ');

  it('hits a post that mentions 20 accounts', async () => {
    const t = setup([rule('mass-mentions')]);
    await screen(t, call('github.add_issue_comment', { body: `Hey ${mentions(20)} check this out` }));
    expect(shadowed(t, 'mass-mentions')).toHaveLength(1);
    nothingApplied(t);
  });

  it('does not hit 19 mentions, 5 mentions or a list of 30 e-mail addresses', async () => {
    const t = setup([rule('mass-mentions')]);
    await screen(t, call('github.add_issue_comment', { body: mentions(19) }));
    await screen(t, call('github.add_issue_comment', { body: `cc ${mentions(5)}` }));
    await screen(t, call('gmail.send_email', { to: Array.from({ length: 30 }, (_, i) => `person${i}@example.com`).join(', '), body: 'Minutes attached.' }));
    expect(t.events).toEqual([]);
  });
});

describe('call-rate-spike', () => {
  /** 10 calls a minute for 50 minutes, 2 quiet minutes, then 120 calls 400 ms apart. */
  const spike = () => [
    ...Array.from({ length: 500 }, (_, i) => decided('bot', 'fs.read_file', new Date(START + i * 6_000))),
    ...Array.from({ length: 120 }, (_, k) => decided('bot', 'fs.read_file', new Date(START + 52 * MIN + k * 400))),
  ];

  it('hits from the 84th call of the burst: 84 in the minute and 584 in the hour (7 × 84 ≥ 584)', async () => {
    const t = setup([rule('call-rate-spike')]);
    await feed(t, spike());
    const hits = shadowed(t, 'call-rate-spike');
    expect(hits[0]!.details!.features).toEqual({ minute: 84, hour: 584 });
    // One hit for the burst: the rest of it falls in the rule's cooldown (a minute) on the agent.
    expect(hits).toHaveLength(1);
    nothingApplied(t);
  });

  it('does not hit an agent steady at 70 calls a minute after its 7th minute', async () => {
    const t = setup([rule('call-rate-spike')]);
    const events = Array.from({ length: 70 * 60 }, (_, i) => decided('steady', 'fs.read_file', new Date(START + Math.round((i * MIN) / 70))));
    await feed(t, events);
    const at = new Map(events.map((e) => [e.id, Date.parse(e.time)]));
    const times = shadowed(t, 'call-rate-spike').map((h) => at.get(h.correlationId!)! - START);
    // It starts cold (no baseline), so its first minutes are a spike; from minute 7 on its hour outweighs it.
    expect(times.length).toBeGreaterThan(0);
    expect(Math.max(...times)).toBeLessThanOrEqual(7 * MIN);
  });

  it('in enforce mode labels the agent runaway for an hour and opens one case proposing kill and a 15-minute deny', async () => {
    const t = setup([rule('call-rate-spike', 'enforce')]);
    await feed(t, spike());
    expect(t.labels.map((l) => [l.entity.id, l.name, l.connotation, Date.parse(l.expiresAt!) - Date.parse(l.createdAt)])).toEqual([['bot', 'runaway', 'bad', HOUR]]);
    expect(t.cases.map((c) => [c.category, c.severity, c.proposed])).toEqual([['runaway', 'high', [{ kind: 'kill' }, { kind: 'deny', forMs: 15 * MIN }]]]);
    expect([t.mitigations, t.killed]).toEqual([[], []]);
  });
});

describe('new-destinations', () => {
  /** One call a minute for 6 hours, cycling over `tools`. */
  const history = (tools: string[], minutes = 360) => Array.from({ length: minutes }, (_, m) => decided('bot', tools[m % tools.length]!, new Date(START + m * MIN)));

  it('hits an agent with 6 hours on 2 tools that calls 8 new ones within 2 minutes (at the 6th: 8 tools)', async () => {
    const t = setup([rule('new-destinations')]);
    const fresh = Array.from({ length: 8 }, (_, j) => decided('bot', `new${j}.call`, new Date(START + 6 * HOUR + j * 10_000)));
    await feed(t, [...history(['fs.read_file', 'github.list_issues']), ...fresh]);
    const hits = shadowed(t, 'new-destinations');
    // The later fresh tools fall in the rule's cooldown on the agent: one hit.
    expect(hits.map((h) => h.details!.features)).toEqual([{ tools: 8, calls: 366, slots: 37, slotTools: 78 }]);
    nothingApplied(t);
  });

  it('does not hit an agent that uses the same 8 tools all day, nor a new agent with no history', async () => {
    const t = setup([rule('new-destinations')]);
    await feed(t, history(Array.from({ length: 8 }, (_, j) => `s${j}.call`), 8 * 60));
    await feed(t, Array.from({ length: 12 }, (_, j) => decided('newcomer', `t${j}.call`, new Date(START + j * 1_000))));
    expect(t.events).toEqual([]);
  });

  it('does not hit an agent that usually touches 3 tools per 10 minutes and now 8 (less than 3 times its breadth)', async () => {
    const t = setup([rule('new-destinations')]);
    const fresh = Array.from({ length: 5 }, (_, j) => decided('bot', `new${j}.call`, new Date(START + 6 * HOUR + j * 10_000)));
    await feed(t, [...history(['a.x', 'b.y', 'c.z']), ...fresh]);
    // At the last call: 8 tools, 37 slots, 3 * 36 + 5 = 113 slot-tools; 8 * 37 = 296 < 3 * 113.
    expect(t.events).toEqual([]);
  });

  it('does not hit a busy agent with less than an hour of history (fewer than 6 slots)', async () => {
    const t = setup([rule('new-destinations')]);
    const busy = Array.from({ length: 250 }, (_, i) => decided('bot', 'fs.read_file', new Date(START + i * 6_000)));
    const fresh = Array.from({ length: 8 }, (_, j) => decided('bot', `new${j}.call`, new Date(START + 30 * MIN + j * 10_000)));
    await feed(t, [...busy, ...fresh]);
    // 9 tools, 258 calls, 4 slots, 11 slot-tools: only the slot count holds it back.
    expect(t.events).toEqual([]);
  });
});

describe('auth-failures', () => {
  const ip = '203.0.113.7';

  it('hits once as one address crosses 30 refusals in 10 minutes', async () => {
    const t = setup([rule('auth-failures')]);
    const types = ['auth.token.failed', 'auth.route.denied', 'auth.decide.refused'];
    await feed(t, Array.from({ length: 45 }, (_, i) => authFailure(types[i % 3]!, ip, START + i * 10_000)));
    const hits = shadowed(t, 'auth-failures');
    expect(hits).toHaveLength(1);
    expect(hits[0]!.details).toMatchObject({ features: { failures: 30 }, verdicts: [`would label ip \`${ip}\` \`credential-stuffing\` (bad) for 3600 s`, `would open a case on ip \`${ip}\``] });
    nothingApplied(t);
  });

  it('does not hit 29 refusals, 30 from 30 addresses, or 30 session-limit refusals', async () => {
    const t = setup([rule('auth-failures')]);
    await feed(t, Array.from({ length: 29 }, (_, i) => authFailure('auth.token.failed', ip, START + i * 10_000)));
    await feed(t, Array.from({ length: 30 }, (_, i) => authFailure('auth.token.failed', `198.51.100.${i}`, START + i * 10_000)));
    await feed(t, Array.from({ length: 30 }, (_, i) => authFailure('gateway.session.refused', '192.0.2.1', START + i * 10_000)));
    expect(t.events).toEqual([]);
  });

  it('in enforce mode labels the address and opens a case on it', async () => {
    const t = setup([rule('auth-failures', 'enforce')]);
    await feed(t, Array.from({ length: 40 }, (_, i) => authFailure('auth.token.failed', ip, START + i * 1_000)));
    expect(t.labels.map((l) => [l.entity, l.name])).toEqual([[{ kind: 'ip', id: ip }, 'credential-stuffing']]);
    expect(t.cases.map((c) => [c.subject, c.proposed])).toEqual([[{ kind: 'ip', id: ip }, [{ kind: 'deny', forMs: HOUR }]]]);
  });
});

describe('exfiltration chain', () => {
  const network = (agent = 'bot') => call('http.fetch', { url: 'https://paste.example/new' }, { capabilities: ['network'] }, agent);

  it('secret-read hits a secret finding and would label the session', async () => {
    const t = setup([rule('secret-read')]);
    await feed(t, [detected([finding('secret', 'github_token', 0.8)])]);
    expect(shadowed(t, 'secret-read').map((h) => h.details!.verdicts)).toEqual([['would label session `s-1` `sensitive-read` (neutral) for 3600 s']]);
    nothingApplied(t);
  });

  it('secret-read does not hit an e-mail address, a weak secret or a prompt injection', async () => {
    const t = setup([rule('secret-read')]);
    await feed(t, [detected([finding('pii', 'EMAIL_ADDRESS', 0.95)]), detected([finding('secret', 'high_entropy', 0.5)]), detected([finding('prompt_injection', 'ignore_previous', 0.9)])]);
    expect(t.events).toEqual([]);
  });

  it('exfil-after-sensitive-read hits a network call in a labelled session', async () => {
    const t = setup([rule('exfil-after-sensitive-read')]);
    await t.labelStore.add({ tenantId: 'acme', entity: { kind: 'session', id: 's-1' }, name: 'sensitive-read', connotation: 'neutral', reason: 'r', source: { kind: 'rule', rule: 'secret-read' }, createdAt: new Date(START).toISOString() });
    expect((await screen(t, network())).refusal).toBeUndefined();
    expect(shadowed(t, 'exfil-after-sensitive-read')).toHaveLength(1);
    expect([t.labels.map((l) => l.name), t.mitigations, t.cases]).toEqual([['sensitive-read'], [], []]);
  });

  it('exfil-after-sensitive-read does not hit a network call in another session, nor a non-network call in the labelled one', async () => {
    const t = setup([rule('exfil-after-sensitive-read')]);
    await t.labelStore.add({ tenantId: 'acme', entity: { kind: 'session', id: 's-1' }, name: 'sensitive-read', connotation: 'neutral', reason: 'r', source: { kind: 'rule', rule: 'secret-read' }, createdAt: new Date(START).toISOString() });
    await screen(t, network(), { sessionId: 's-2' });
    await screen(t, call('fs.write_file', { path: 'out.txt' }, { capabilities: ['filesystem'] }));
    await screen(t, call('docs.search', { q: 'x' }));
    expect(t.events).toEqual([]);
  });

  it('in enforce mode a secret read labels the session, and a network call in it is refused and bars the session for an hour', async () => {
    const t = setup([rule('secret-read', 'enforce'), rule('exfil-after-sensitive-read', 'enforce')]);
    await feed(t, [detected([finding('secret', 'aws_access_key_id', 0.9)])]);
    expect(t.labels.map((l) => [l.entity, l.name, Date.parse(l.expiresAt!) - Date.parse(l.createdAt)])).toEqual([[{ kind: 'session', id: 's-1' }, 'sensitive-read', HOUR]]);
    const r = await screen(t, network());
    expect(r.refusal).toMatchObject({ rule: 'exfil-after-sensitive-read', effect: 'deny' });
    expect(t.mitigations.map((m) => [m.kind, m.entity, Date.parse(m.until) - Date.parse(m.createdAt)])).toEqual([['deny', { kind: 'session', id: 's-1' }, HOUR]]);
    expect(t.cases.map((c) => [c.category, c.subject, c.proposed])).toEqual([['exfiltration', { kind: 'agent', id: 'bot' }, [{ kind: 'deny', forMs: HOUR }]]]);
    // The session stays barred; the agent's other sessions do not.
    expect((await screen(t, call('docs.search', { q: 'x' }))).refusal!.message).toMatch(/^session `s-1` is barred/);
    expect((await screen(t, network(), { sessionId: 's-2' })).refusal).toBeUndefined();
  });
});

describe('tool-poisoning follow-through', () => {
  const seen = async (t: Harness) =>
    t.labelStore.add({ tenantId: 'acme', entity: { kind: 'agent', id: 'bot' }, name: 'saw-poisoned-tool', connotation: 'neutral', reason: 'r', source: { kind: 'rule', rule: 'poisoned-tool-seen' }, createdAt: new Date(START).toISOString() });

  it('poisoned-tool-seen hits a tool-poisoning finding and would label the agent', async () => {
    const t = setup([rule('poisoned-tool-seen')]);
    await feed(t, [detected([finding('tool_poisoning', 'hidden_instructions', 0.8)])]);
    expect(shadowed(t, 'poisoned-tool-seen').map((h) => h.details!.verdicts)).toEqual([['would label agent `bot` `saw-poisoned-tool` (neutral) for 3600 s']]);
    nothingApplied(t);
  });

  it('poisoned-tool-seen does not hit other findings, nor the registry blocking a poisoned tool (no agent saw it)', async () => {
    const t = setup([rule('poisoned-tool-seen')]);
    const registry = newAuditEvent({ tenantId: 'acme', scope: 'acme', category: 'detection', type: 'registry.tool.poisoned', outcome: 'success', actor: { type: 'system', id: 'warden-registry' }, target: { kind: 'tool', server: 'fs', name: 'fs.read_file' }, findings: [finding('tool_poisoning', 'hidden_instructions', 0.9)] }, new Date(START));
    await feed(t, [detected([finding('prompt_injection', 'ignore_previous', 0.9)]), registry]);
    expect(t.events).toEqual([]);
  });

  it('poisoned-follow-through hits a labelled agent calling an exec tool, or a tool named like read_file', async () => {
    const t = setup([rule('poisoned-follow-through')]);
    await seen(t);
    await screen(t, call('shell.run', { command: 'ls' }, { capabilities: ['exec'] }));
    // Past the rule's cooldown on the agent (a minute), the next follow-through is a hit of its own.
    t.advance(61_000);
    await screen(t, call('fs.read_text_file', { path: '~/.ssh/id_rsa' }));
    expect(shadowed(t, 'poisoned-follow-through')).toHaveLength(2);
    expect([t.labels.map((l) => l.name), t.mitigations, t.cases]).toEqual([['saw-poisoned-tool'], [], []]);
  });

  it('poisoned-follow-through does not hit the same call without the label, nor a harmless call with it', async () => {
    const t = setup([rule('poisoned-follow-through')]);
    await screen(t, call('shell.run', { command: 'ls' }, { capabilities: ['exec'] }));
    await seen(t);
    t.advance(1_000);
    await screen(t, call('docs.search', { q: 'x' }));
    expect(t.events).toEqual([]);
  });

  it('in enforce mode opens one case an hour proposing a deny, and refuses nothing', async () => {
    const t = setup([rule('poisoned-follow-through', 'enforce')]);
    await seen(t);
    expect((await screen(t, call('shell.run', { command: 'ls' }, { capabilities: ['exec'] }))).refusal).toBeUndefined();
    await screen(t, call('bank.transfer', { amount: 10 }));
    expect(t.cases.map((c) => [c.category, c.proposed])).toEqual([['tool_poisoning', [{ kind: 'deny', forMs: HOUR }]]]);
    expect(t.mitigations).toEqual([]);
  });
});
