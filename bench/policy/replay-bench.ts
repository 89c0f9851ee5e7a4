// Replay throughput (issue 13): `warden policy replay` over N recorded decisions on PostgreSQL,
// against its anchor in the same run: reading the same decision events from the audit log without
// deciding them (the replay can be no faster than the read). Prints events/s, the ratio, the cost
// per decision (p50/p99 over batches of 2 000) and peak RSS.
//   npx tsx bench/policy/replay-bench.ts [--events 1000000] [--url postgres://…/db_kept_by_a_previous_run]
// Without --url it creates a database, records N decisions through the checkpoint's event builder and
// the audit writer (8 callers × 500 events), and drops it at the end unless --keep 1.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { buildDecisionEvent } from '../../src/checkpoint/index.js';
import type { Action, Decision } from '../../src/domain/index.js';
import type { Credential } from '../../src/identity/index.js';
import { createCore } from '../../src/main/index.js';
import { percentile } from '../support/stats.js';

const ADMIN = process.env.WARDEN_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
const N = Number(args.get('events') ?? 1_000_000);
const log = (m: string) => process.stderr.write(`${m}\n`);

let seed = 7;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const TOOLS = ['shell.run', 'files.read', 'deploy.release', 'db.query', 'files.write', 'http.fetch'];

function recorded(i: number): ReturnType<typeof buildDecisionEvent> {
  const agent = `agent-${Math.floor(rand() * 500)}`;
  const tool = TOOLS[Math.floor(rand() * TOOLS.length)]!;
  const action: Action = {
    kind: 'tool.call',
    scope: `acme/g${Math.floor(rand() * 20)}/p${Math.floor(rand() * 50)}`,
    agent: { id: agent, kind: 'coding-assistant' },
    principal: { id: `user-${Math.floor(rand() * 2000)}`, roles: [rand() < 0.1 ? 'admin' : 'developer'] },
    tool: { server: 'ops', name: tool, risk: tool.startsWith('shell') || tool.startsWith('deploy') ? 'high' : 'low' },
  } as Action;
  const effect = tool === 'shell.run' ? 'deny' : 'allow';
  const time = new Date(Date.parse('2026-11-01T00:00:00Z') + i * 1000);
  const decision: Decision = {
    effect,
    reasons: [{ policy: 'baseline', version: 1, rule: effect === 'deny' ? 'no-shell' : 'default', effect, scope: 'acme' }],
    warnings: [],
    findings: [],
    obligations: [],
    context: { time: time.toISOString(), setByWarden: ['context.time'], assertedByCaller: [] },
  };
  return buildDecisionEvent(action, decision, { time, caller: { tenantId: 'default' } });
}

const ACTIVE = `apiVersion: warden.dev/v1
kind: ScopeSettings
metadata: { scope: acme }
spec: { defaultEffect: allow }
---
apiVersion: warden.dev/v1
kind: Policy
metadata: { name: baseline, scope: acme }
spec:
  rules:
    - { name: no-shell, match: { tools: ["shell.*"] }, effect: deny }
`;
const DRAFT = `apiVersion: warden.dev/v1
kind: Policy
metadata: { name: tighten, scope: acme }
spec:
  rules:
    - { name: high-risk-needs-admin, match: { tools: ["deploy.*", "db.*"] }, when: 'tool.risk == "high" && !("admin" in principal.roles)', effect: deny }
    - { name: no-writes-in-g1, match: { tools: ["files.write"] }, when: 'action.scope.startsWith("acme/g1/")', effect: deny }
`;

async function main(): Promise<void> {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  let url = args.get('url');
  let dbName: string | undefined;
  if (!url) {
    dbName = `warden_replay_${process.pid}_${randomBytes(3).toString('hex')}`;
    const admin = new pg.Client({ connectionString: ADMIN });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    const u = new URL(ADMIN);
    u.pathname = `/${dbName}`;
    url = u.toString();
  }
  const policyDir = mkdtempSync(join(tmpdir(), 'warden-replay-bench-'));
  writeFileSync(join(policyDir, 'active.yaml'), ACTIVE);
  const core = await createCore({ database: { url }, policies: [policyDir] }, { logger: pino({ level: 'silent' }) });
  try {
    if (dbName) {
      log(`recording ${N} decisions through the audit writer…`);
      const t0 = performance.now();
      let next = 0;
      const caller = async () => {
        while (next < N) {
          const batch = [];
          for (let k = 0; k < 500 && next < N; k++) batch.push(recorded(next++));
          await core.audit.append(batch);
        }
      };
      await Promise.all(Array.from({ length: 8 }, caller));
      await core.flush();
      log(`  recorded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      // Steady state: autovacuum analyzes a table some time after a bulk load; without statistics the
      // planner takes the fresh partition for a few rows and sorts all of it for every keyset page.
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query('ANALYZE audit_events');
      await c.end();
    }
    const owner: Credential = { tenantId: 'default', method: 'local', id: 'bench', name: 'bench', grants: [{ role: 'owner' }] };
    const query = { tenant: 'default', category: 'decision' as const };
    // Anchor: the same events read, nothing decided.
    const r0 = performance.now();
    let read = 0;
    for await (const _ of core.auditLog.stream(query, { batchSize: 2000 })) read++;
    const readS = (performance.now() - r0) / 1000;
    log(`anchor: read ${read} decision events in ${readS.toFixed(1)} s`);
    // Replay, timing each batch of 2 000 through the progress callback.
    const batchMs: number[] = [];
    let lastAt = performance.now();
    let lastRead = 0;
    const t1 = performance.now();
    const report = await core.managedPolicies.replay(owner, { drafts: [{ name: 'tighten', source: DRAFT }], samples: 3 }, (n) => {
      const now = performance.now();
      if (n > lastRead) batchMs.push((now - lastAt) / ((n - lastRead) / 2000));
      lastAt = now;
      lastRead = n;
    });
    const replayS = (performance.now() - t1) / 1000;
    batchMs.sort((a, b) => a - b);
    const rss = process.resourceUsage().maxRSS / 1024;
    const result = {
      date: new Date().toISOString(),
      events: report.read,
      evaluated: report.evaluated,
      changed: report.changed,
      changes: report.changes.map((c) => `${c.from}→${c.to} ${c.rule}: ${c.count}`),
      replaySeconds: Number(replayS.toFixed(2)),
      replayPerSecond: Math.round(report.read / replayS),
      readSeconds: Number(readS.toFixed(2)),
      readPerSecond: Math.round(read / readS),
      ratioToRead: Number((read / readS / (report.read / replayS)).toFixed(2)),
      per2000: { p50Ms: Number(percentile(batchMs, 50).toFixed(1)), p99Ms: Number(percentile(batchMs, 99).toFixed(1)) },
      peakRssMiB: Math.round(rss),
      loadavg: (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').trim(),
    };
    console.log(JSON.stringify(result, null, 2));
    console.log(`| replay of ${result.events} recorded decisions | ${result.replaySeconds} s, ${result.replayPerSecond}/s | read alone (anchor) ${result.readSeconds} s, ${result.readPerSecond}/s | replay takes ×${result.ratioToRead} the read | per 2 000: p50 ${result.per2000.p50Ms} ms, p99 ${result.per2000.p99Ms} ms | peak RSS ${result.peakRssMiB} MiB |`);
  } finally {
    await core.close();
    if (dbName && args.get('keep') !== '1') {
      const admin = new pg.Client({ connectionString: ADMIN });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await admin.end();
    } else if (dbName) log(`kept ${url}`);
  }
}

await main();
