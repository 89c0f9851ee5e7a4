import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.js';
import type { Case, Label } from '../src/domain/index.js';
import { startServer, type RunningServer } from '../src/main/index.js';
import { cli } from './support/cli.js';
import { operator } from './support/api-core.js';

// `warden cases` and `warden labels` (issue 15 items 3 and 5) against a running `warden serve` with
// two analysts, then on the same database directly once it stops.
const dir = mkdtempSync(join(tmpdir(), 'warden-abuse-cli-'));
const dataDir = join(dir, 'data');
const configHome = join(dir, 'config');
let server: RunningServer | undefined;
let url: string;
const people: Record<string, string> = {};
let caseId: string;
let second: string;

const remote = (token: string): Record<string, string> => ({ WARDEN_URL: url, XDG_CONFIG_HOME: configHome, WARDEN_TOKEN: token });

const openCase = async (summary: string): Promise<Case> =>
  server!.core.cases.open({
    tenantId: 'default',
    category: 'exfiltration',
    severity: 'high',
    scope: 'acme/payments',
    subject: { kind: 'agent', id: 'agent-7' },
    summary,
    source: { kind: 'rule', rule: 'exfil-burst' },
    evidence: { eventIds: ['e1'], findings: [], labels: [], features: { uploads_1m: 12 } },
    mitigations: [],
    proposed: [],
  });

beforeAll(async () => {
  server = await startServer(loadConfig({ port: 0, dataDir, logLevel: 'silent', watch: false }, {}), { logger: pino({ level: 'silent' }) });
  url = server.url;
  const make = async (name: string) => (await server!.core.identity.createToken(operator(), { name, role: 'analyst', principal: name })).token;
  people.ana = await make('ana');
  people.ben = await make('ben');
  people.viewer = (await server.core.identity.createToken(operator(), { name: 'vic', role: 'viewer', principal: 'vic' })).token;
  caseId = (await openCase('uploads to an unknown host')).id;
  second = (await openCase('another upload burst')).id;
}, 60_000);

afterAll(async () => {
  await server?.close();
});

describe('warden cases and labels through WARDEN_URL', () => {
  it('list and show the queue; a viewer is refused', async () => {
    const listed = await cli(['cases', 'list'], { env: remote(people.ana!) });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${caseId} +default +open +high +agent:agent-7 +exfil-burst +- +`));
    const json = JSON.parse((await cli(['cases', 'list', '--json'], { env: remote(people.ana!) })).stdout) as { cases: Case[] };
    expect(json.cases.map((k) => k.id)).toEqual([second, caseId]);
    const shown = await cli(['cases', 'show', caseId], { env: remote(people.ana!) });
    expect(shown.stdout).toContain(`case ${caseId} (open)`);
    expect(shown.stdout).toContain('uploads_1m = 12');
    const viewer = await cli(['cases', 'list'], { env: remote(people.viewer!) });
    expect(viewer.code).toBe(2);
    expect(viewer.stderr).toContain('[auth.forbidden]');
  });

  it('claim is exclusive, decide needs the claim, notes and decisions show up', async () => {
    expect((await cli(['cases', 'claim', caseId], { env: remote(people.ana!) })).stdout).toContain(`claimed ${caseId}`);
    const taken = await cli(['cases', 'claim', caseId], { env: remote(people.ben!) });
    expect(taken.code).toBe(2);
    expect(taken.stderr).toContain('[abuse.case_claimed]');
    expect(taken.stderr).toContain('`ana`');
    const notMine = await cli(['cases', 'decide', caseId, 'confirmed'], { env: remote(people.ben!) });
    expect(notMine.stderr).toContain('[abuse.not_claimed]');
    expect((await cli(['cases', 'note', caseId, 'checked the host'], { env: remote(people.ana!) })).stdout).toBe(`noted on ${caseId} (1 note)\n`);
    const done = await cli(['cases', 'decide', caseId, 'escalated', '--note', 'needs a senior'], { env: remote(people.ana!) });
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toBe(`escalated ${caseId} to queue escalated\n`);
    const shown = JSON.parse((await cli(['cases', 'show', caseId, '--json'], { env: remote(people.ben!) })).stdout) as Case;
    expect(shown).toMatchObject({ queue: 'escalated', status: 'open', notes: [{ by: 'ana', text: 'checked the host' }, { by: 'ana', text: 'needs a senior' }] });
  });

  it('refuses a malformed id and an unknown outcome before asking', async () => {
    expect((await cli(['cases', 'show', 'nope'], { env: remote(people.ana!) })).code).toBe(2);
    expect((await cli(['cases', 'decide', caseId, 'maybe'], { env: remote(people.ana!) })).stderr).toContain('unknown outcome `maybe`');
  });

  it('labels: add with a reason and a ttl, list, remove an entity id with a slash', async () => {
    const added = await cli(['labels', 'add', 'principal', 'bob@acme/x', 'watch', '--reason', 'odd uploads', '--ttl', '1h'], { env: remote(people.ana!) });
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/^labelled principal bob@acme\/x `watch` \(bad, until .*\)\n$/);
    expect((await cli(['labels', 'add', 'agent', 'agent-7', 'x'], { env: remote(people.ana!) })).code).not.toBe(0);
    const listed = JSON.parse((await cli(['labels', 'list', '--json', '--kind', 'principal'], { env: remote(people.ana!) })).stdout) as { labels: Label[] };
    expect(listed.labels).toMatchObject([{ entity: { kind: 'principal', id: 'bob@acme/x' }, name: 'watch', reason: 'odd uploads' }]);
    expect((await cli(['labels', 'remove', 'principal', 'bob@acme/x', 'watch'], { env: remote(people.ana!) })).stdout).toBe('removed `watch` from principal bob@acme/x\n');
    expect((await cli(['labels', 'list'], { env: remote(people.ana!) })).stdout).toBe('no labels\n');
  });
});

describe('warden cases and labels on the database', () => {
  it('works the queue as the local operator, or --as an analyst with a token', async () => {
    await server!.close();
    server = undefined;
    const env = { XDG_CONFIG_HOME: configHome };
    const db = ['--data-dir', dataDir];
    const claimed = await cli(['cases', 'claim', second, '--as', 'ben', ...db], { env });
    expect(claimed.code, claimed.stderr).toBe(0);
    const decided = await cli(['cases', 'decide', second, 'false_positive', '--as', 'ben', '--json', ...db], { env });
    expect(decided.code, decided.stderr).toBe(0);
    expect(JSON.parse(decided.stdout)).toMatchObject({ status: 'closed', outcome: 'false_positive', decidedBy: 'ben' });
    expect((await cli(['cases', 'list', '--status', 'closed', ...db], { env })).stdout).toContain(second);
    const label = await cli(['labels', 'add', 'agent', 'agent-7', 'trusted', '--connotation', 'good', '--reason', 'reviewed', ...db], { env });
    expect(label.code, label.stderr).toBe(0);
    expect((await cli(['labels', 'list', ...db], { env })).stdout).toMatch(/agent:agent-7 +trusted +good +never/);
  }, 60_000);
});
