import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditWriter, createCheckpointer } from '../src/audit/index.js';
import { loadSigningKey } from '../src/config/signing-key.js';
import { AuditEventSchema, newAuditEvent, type AuditCategory, type AuditEvent } from '../src/domain/index.js';
import { createAuditRepo, migrate, openDatabase, type Database } from '../src/store/index.js';
import { cli } from './support/cli.js';
import { OCSF_CLASS_SCHEMAS } from './support/ocsf-classes.js';

// One embedded database on disk, filled through the real writer, then driven through the CLI.
const dir = mkdtempSync(join(tmpdir(), 'warden-audit-cli-'));
const dataDir = join(dir, 'data');
const keyFile = `${dataDir}.audit-key.pem`;
const store = ['--data-dir', dataDir];
let database: Database;

function ev(i: number, category: AuditCategory): AuditEvent {
  return newAuditEvent(
    {
      scope: i % 2 ? 'acme/a' : 'acme/b',
      category,
      type: category === 'decision' ? 'tool.call.decided' : category === 'detection' ? 'finding.detected' : category === 'admin' ? 'registry.tool.blocked' : category === 'auth' ? 'auth.login' : 'audit.exported',
      outcome: i % 3 ? 'success' : 'denied',
      actor: { type: 'agent', id: `agent-${i % 4}`, ip: '10.0.0.9' },
      agent: { id: `agent-${i % 4}`, kind: 'coding-assistant' },
      target: { kind: 'tool', server: 'ops', name: i % 2 ? 'shell.run' : 'files.read, "quoted"\nline' },
      action: { kind: 'tool.call' },
      decision: { effect: i % 3 ? 'allow' : 'deny', reasons: [{ policy: 'p', version: 1, rule: 'r', effect: i % 3 ? 'allow' : 'deny', message: '=cmd|evil' }], warnings: [], findings: category === 'detection' ? [{ category: 'secret', type: 'aws', score: 0.9, severity: 'high', start: 0, end: 4, detector: 'secret', evidence: 'AKIA…' }] : [], obligations: [] },
    },
    new Date(Date.parse('2026-11-24T10:00:00Z') + i * 1000),
  );
}

beforeAll(async () => {
  database = await openDatabase({ dataDir });
  await migrate(database.db);
  const repo = createAuditRepo(database);
  const clock = { now: () => new Date() };
  const writer = createAuditWriter({ store: repo, clock });
  const cats: AuditCategory[] = ['decision', 'detection', 'admin', 'auth', 'audit_system'];
  await writer.append(Array.from({ length: 25 }, (_, i) => ev(i, cats[i % 5]!)));
  const { key } = await loadSigningKey(keyFile, { create: true });
  await createCheckpointer({ chain: repo, checkpoints: repo, key, clock }).sealAll();
  await writer.append(Array.from({ length: 5 }, (_, i) => ev(100 + i, 'decision')));
  await database.close();
});
afterAll(async () => {
  await database.close().catch(() => {});
});

describe('warden audit verify', () => {
  it('passes an untouched log and seals the rest', async () => {
    const v = await cli(['audit', 'verify', ...store]);
    expect(v.code).toBe(0);
    expect(v.stdout).toContain('tenant default: 30 events, last seq 30, 1 checkpoint(s)');
    const s = await cli(['audit', 'seal', ...store]);
    expect(s.stdout).toMatch(/sealed default 26\.\.30 root sha256:[0-9a-f]{64}/);
    expect((await cli(['audit', 'seal', ...store])).stdout).toContain('nothing new to seal');
  });

  it('verifies an export offline against exported checkpoints and a pinned key, and catches an edited export', async () => {
    const events = join(dir, 'chain.jsonl');
    const cps = join(dir, 'checkpoints.jsonl');
    expect((await cli(['audit', 'export', ...store, '--order', 'chain', '--output', events, '--no-progress'])).code).toBe(0);
    expect((await cli(['audit', 'checkpoints', ...store, '--output', cps])).code).toBe(0);
    const pub = join(dir, 'pub.pem');
    const keys = await cli(['audit', 'keys', '--audit-key', keyFile]);
    writeFileSync(pub, keys.stdout.slice(keys.stdout.indexOf('-----BEGIN')));
    const ok = await cli(['audit', 'verify', '--events', events, '--checkpoints', cps, '--trusted-key', pub]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('OK');

    const lines = readFileSync(events, 'utf8').trim().split('\n');
    const e7 = JSON.parse(lines[6]!);
    e7.outcome = 'success';
    lines[6] = JSON.stringify(e7);
    writeFileSync(events, `${lines.join('\n')}\n`);
    const bad = await cli(['audit', 'verify', '--events', events, '--checkpoints', cps, '--format', 'json']);
    expect(bad.code).toBe(1);
    const report = JSON.parse(bad.stdout);
    expect(report.tenants.default.firstBadSeq).toBe(7);

    const otherKey = join(dir, 'other.pem');
    execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', otherKey]);
    const untrusted = await cli(['audit', 'verify', '--events', events, '--checkpoints', cps, '--trusted-key', otherKey]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stdout).toContain('not trusted');
  });
});

describe('warden audit export', () => {
  it('writes JSON lines that parse back to valid events', async () => {
    const r = await cli(['audit', 'export', ...store, '--no-progress']);
    const evs = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(evs).toHaveLength(30);
    const validate = new Ajv({ strict: false }).compile(AuditEventSchema);
    for (const e of evs) expect(validate(e), JSON.stringify(validate.errors)).toBe(true);
  });

  it('writes CSV that parses back, quoting commas, quotes and newlines and defusing formulas', async () => {
    const r = await cli(['audit', 'export', ...store, '--format', 'csv', '--category', 'decision', '--no-progress']);
    const rows = parseCsv(r.stdout);
    const [header, ...body] = rows;
    expect(header![0]).toBe('id');
    expect(body.length).toBeGreaterThan(0);
    const col = (name: string) => header!.indexOf(name);
    for (const row of body) {
      expect(row).toHaveLength(header!.length);
      const event = JSON.parse(row[col('event_json')]!);
      expect(event.id).toBe(row[col('id')]);
      expect(row[col('message')]).toBe("'=cmd|evil");
    }
    expect(body.some((row) => row[col('target_name')] === 'files.read, "quoted"\nline')).toBe(true);
  });

  it('writes OCSF events that validate against the class each claims', async () => {
    const r = await cli(['audit', 'export', ...store, '--format', 'ocsf', '--no-progress']);
    const evs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { class_uid: number });
    const ajv = new Ajv({ strict: false, allErrors: true });
    const classes = new Set<number>();
    for (const e of evs) {
      const schema = OCSF_CLASS_SCHEMAS[e.class_uid];
      expect(schema, `no schema for class ${e.class_uid}`).toBeDefined();
      const validate = ajv.getSchema(String(e.class_uid)) ?? (ajv.addSchema(schema!, String(e.class_uid)), ajv.getSchema(String(e.class_uid))!);
      expect(validate(e), `${e.class_uid}: ${JSON.stringify(validate.errors)}`).toBe(true);
      classes.add(e.class_uid);
    }
    expect([...classes].sort()).toEqual([1008, 2004, 3002, 3004, 6003]);
  });

  it('filters like the API and rejects a bad filter with exit 2', async () => {
    const r = await cli(['audit', 'export', ...store, '--agent', 'agent-1', '--no-progress']);
    const evs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as AuditEvent);
    expect(evs.length).toBeGreaterThan(0);
    expect(evs.every((e) => e.agent?.id === 'agent-1')).toBe(true);
    expect((await cli(['audit', 'export', ...store, '--effect', 'maybe'])).code).toBe(2);
    expect((await cli(['audit', 'export', ...store, '--format', 'xml'])).code).toBe(2);
  });
});

describe('warden audit tail', () => {
  it('prints the latest events oldest first', async () => {
    const r = await cli(['audit', 'tail', ...store, '-n', '3', '--no-follow']);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toContain('default#30');
    // A newline inside an agent-supplied field is escaped, never printed raw.
    expect(r.stdout).toContain('files.read, "quoted"\\u000aline');
  });
});

describe('warden audit retention and hold', () => {
  it('sets periods, places and releases holds, and audits each change', async () => {
    expect((await cli(['audit', 'retention', ...store, '--set', 'decision=3650'])).stdout).toContain('default decision: 3650 day(s)');
    expect((await cli(['audit', 'retention', ...store, '--set', 'decision=0'])).code).toBe(2);
    expect((await cli(['audit', 'retention', ...store, '--set', 'nonsense=3'])).code).toBe(2);
    const run = await cli(['audit', 'retention', ...store, '--run']);
    expect(run.stdout).toContain('default decision: removed 0 event(s)');
    const added = await cli(['audit', 'hold', 'add', ...store, '--scope', 'acme/a', '--reason', 'case 7', '--from', '2026-01-01T00:00:00Z']);
    const id = /hold (\S+) keeps acme\/a/.exec(added.stdout)![1]!;
    expect((await cli(['audit', 'hold', 'list', ...store])).stdout).toContain(`${id} active default acme/a`);
    expect((await cli(['audit', 'hold', 'release', ...store, id])).code).toBe(0);
    expect((await cli(['audit', 'hold', 'release', ...store, id])).code).toBe(2);
    const types = (await cli(['audit', 'export', ...store, '--category', 'audit_system', '--no-progress'])).stdout;
    for (const t of ['audit.retention.updated', 'audit.hold.created', 'audit.hold.released']) expect(types).toContain(t);
    expect((await cli(['audit', 'verify', ...store])).code).toBe(0);
  });
});

describe('tampering in the database', () => {
  it('names the first bad sequence number for a changed, deleted or reordered row', async () => {
    // The edit is made and the database closed first: one process at a time opens a data directory.
    const db = await openDatabase({ dataDir });
    try {
      await sql`UPDATE audit_events SET body = regexp_replace(body, '"scope":"[^"]*"', '"scope":"acme/evil"') WHERE chain_seq = 12`.execute(db.db);
    } finally {
      await db.close();
    }
    const r = JSON.parse((await cli(['audit', 'verify', ...store, '--format', 'json'])).stdout);
    expect(r.tenants.default.findings[0]).toMatchObject({ kind: 'changed', seq: 12 });
  });
});

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell || row.length) rows.push([...row, cell]);
  return rows;
}

describe('warden audit verify against the database trusts this installation\'s own key', () => {
  it('fails checkpoints signed by another key (rows rewritten and re-signed by whoever changed them), unless that key is passed', async () => {
    const { createCore } = await import('../src/main/index.js');
    const { generateSigningKey } = await import('../src/audit/index.js');
    const pino = (await import('pino')).default;
    const base = mkdtempSync(join(tmpdir(), 'warden-own-key-'));
    const data = join(base, 'data');
    const own = `${data}.audit-key.pem`;
    const other = join(base, 'other.pem');
    writeFileSync(own, generateSigningKey().privateKeyPem, { mode: 0o600 });
    writeFileSync(other, generateSigningKey().privateKeyPem, { mode: 0o600 });
    // Events written and sealed with a key that is not the installation's (what a rewrite would leave).
    const core = await createCore({ database: { dataDir: data }, policies: [], auditKeyFile: other }, { logger: pino({ level: 'silent' }) });
    await core.registry.setAgentStatus('agent-1', 'suspended', { type: 'user', id: 'mallory' });
    await core.close();
    const v = await cli(['audit', 'verify', '--data-dir', data]);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain('TAMPERED');
    expect((await cli(['audit', 'verify', '--data-dir', data, '--trusted-key', other])).code).toBe(0);
    expect((await cli(['audit', 'verify', '--data-dir', data, '--audit-key', other])).code).toBe(0);
  });
});
