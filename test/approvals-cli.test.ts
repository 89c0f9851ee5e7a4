import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.js';
import type { ApprovalRequest, Decision } from '../src/domain/index.js';
import { startServer, type RunningServer } from '../src/main/index.js';
import { cli } from './support/cli.js';
import { operator } from './support/api-core.js';

// `warden approvals list|show|approve|deny` (issue 14, item 4) against a running `warden serve`
// with two people, then on the same database directly once it stops (`--as`).
const POLICY = `apiVersion: warden.dev/v1
kind: ScopeSettings
metadata: { scope: acme }
spec: { defaultEffect: allow }
---
apiVersion: warden.dev/v1
kind: Policy
metadata: { name: deploys, scope: acme }
spec:
  rules:
    - name: prod-needs-one
      match: { actions: [tool.call], tools: ["deploy.*"] }
      effect: require_approval
      approval: { approvers: { roles: [approver] }, timeout: 30m }
`;

const dir = mkdtempSync(join(tmpdir(), 'warden-approvals-cli-'));
const dataDir = join(dir, 'data');
const configHome = join(dir, 'config');
let server: RunningServer | undefined;
let url: string;
const people: Record<string, string> = {};

const remote = (token: string): Record<string, string> => ({ WARDEN_URL: url, XDG_CONFIG_HOME: configHome, WARDEN_TOKEN: token });

/** A require_approval decision asked by `principal` through agent-7: opens a request. */
async function decide(args: Record<string, unknown>, principal = 'alice'): Promise<Decision> {
  const res = await fetch(`${url}/api/v1/decide`, {
    method: 'POST',
    headers: { authorization: `Bearer ${people.enforcer}`, 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'tool.call', scope: 'acme/payments', agent: { id: 'agent-7' }, principal: { id: principal }, tool: { server: 'deploy', name: 'deploy.release' }, args }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Decision;
}

beforeAll(async () => {
  const policies = join(dir, 'policies');
  mkdirSync(policies);
  writeFileSync(join(policies, 'p.yaml'), POLICY);
  server = await startServer(loadConfig({ port: 0, dataDir, policies: [policies], logLevel: 'silent', watch: false }, {}), { logger: pino({ level: 'silent' }) });
  url = server.url;
  const make = async (name: string, role: 'approver' | 'enforcer') => (await server!.core.identity.createToken(operator(), { name, role, ...(role === 'approver' ? { principal: name } : {}) })).token;
  people.alice = await make('alice', 'approver');
  people.bob = await make('bob', 'approver');
  people.enforcer = await make('gateway', 'enforcer');
}, 60_000);

afterAll(async () => {
  await server?.close();
});

describe('warden approvals through WARDEN_URL', () => {
  let id: string;

  it('list shows the pending request to the other approver, and not to the requester', async () => {
    const d = await decide({ environment: 'production', note: 'ship \u202eit' });
    expect(d.effect).toBe('require_approval');
    id = d.approvalRequest!.id;
    const bob = await cli(['approvals', 'list'], { env: remote(people.bob!) });
    expect(bob.code, bob.stderr).toBe(0);
    expect(bob.stdout).toContain(id);
    expect(bob.stdout).toMatch(new RegExp(`${id} +pending +deploy\\.deploy\\.release +alice +agent-7 +acme/payments +0/1`));
    // Alice asked for the call: it is not hers to answer, so her default list leaves it out …
    expect((await cli(['approvals', 'list'], { env: remote(people.alice!) })).stdout).toBe('no approval requests\n');
    // … while --all shows every request she may see.
    expect((await cli(['approvals', 'list', '--all'], { env: remote(people.alice!) })).stdout).toContain(id);
    const json = await cli(['approvals', 'list', '--json'], { env: remote(people.bob!) });
    expect((JSON.parse(json.stdout) as { approvals: ApprovalRequest[] }).approvals.map((r) => r.id)).toEqual([id]);
  });

  it('show prints the call as the digest covers it: the arguments, who asked, the digest, who may answer', async () => {
    const r = await cli(['approvals', 'show', id], { env: remote(people.bob!) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`approval request ${id} (pending)`);
    expect(r.stdout).toContain('tool        deploy.release (server deploy)');
    expect(r.stdout).toContain('arguments   {\n                "environment": "production",\n                "note": "ship \\u202eit"\n              }');
    expect(r.stdout).toContain('principal   alice');
    expect(r.stdout).toContain('agent       agent-7');
    expect(r.stdout).toContain('scope       acme/payments');
    expect(r.stdout).toMatch(/digest {6}sha256:[0-9a-f]{64}/);
    expect(r.stdout).toContain('answer by   role `approver` at `acme/payments`');
    expect(r.stdout).toContain('needs       1 approval; 0 so far');
    expect(r.stdout).toContain('answers     none yet');
    const json = JSON.parse((await cli(['approvals', 'show', id, '--json'], { env: remote(people.bob!) })).stdout) as ApprovalRequest;
    expect(json).toMatchObject({ id, status: 'pending', subject: { args: { environment: 'production' }, principal: 'alice' } });
  });

  it('self-approval fails with approval.self and a non-zero exit; the other approver approves', async () => {
    const self = await cli(['approvals', 'approve', id], { env: remote(people.alice!) });
    expect(self.code).toBe(2);
    expect(self.stderr).toContain('[approval.self]');
    expect(self.stdout).toBe('');
    const ok = await cli(['approvals', 'approve', id, '--comment', 'change ticket 42'], { env: remote(people.bob!) });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe(`approved ${id}: now approved (1/1 approvals)\n`);
    const shown = await cli(['approvals', 'show', id], { env: remote(people.bob!) });
    expect(shown.stdout).toContain(`${id} (approved)`);
    expect(shown.stdout).toMatch(/answers {5}approve by bob \(bob\) at .*: change ticket 42/);
    const again = await cli(['approvals', 'deny', id], { env: remote(people.bob!) });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('[approval.closed]');
  });

  it('refuses a malformed id, an unknown status and --as through a server, before asking', async () => {
    expect(await cli(['approvals', 'show', 'nope'], { env: remote(people.bob!) })).toMatchObject({ code: 2 });
    expect((await cli(['approvals', 'list', '--status', 'maybe'], { env: remote(people.bob!) })).stderr).toContain('unknown status `maybe`');
    expect((await cli(['approvals', 'approve', id, '--as', 'bob'], { env: remote(people.bob!) })).stderr).toContain('`--as` applies to the database directly');
  });
});

describe('warden approvals on the database (--as)', () => {
  let id: string;
  it('answers for a named person with their token roles, and refuses without --as', async () => {
    id = (await decide({ environment: 'staging' })).approvalRequest!.id;
    await server!.close();
    server = undefined;
    const env = { XDG_CONFIG_HOME: configHome };
    const db = ['--data-dir', dataDir];
    const bare = await cli(['approvals', 'approve', id, ...db], { env });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('--as <principal>');
    const listed = await cli(['approvals', 'list', ...db], { env });
    expect(listed.stdout).toContain(id);
    const self = await cli(['approvals', 'approve', id, '--as', 'alice', ...db], { env });
    expect(self.code).toBe(2);
    expect(self.stderr).toContain('error[approval.self]');
    const nobody = await cli(['approvals', 'approve', id, '--as', 'mallory', ...db], { env });
    expect(nobody.code).toBe(2);
    expect(nobody.stderr).toContain('`mallory` holds no live API token');
    const denied = await cli(['approvals', 'deny', id, '--as', 'bob', '--comment', 'not today', ...db], { env });
    expect(denied.code, denied.stderr).toBe(0);
    expect(denied.stdout).toBe(`denied ${id}: now denied (0/1 approvals)\n`);
    const shown = await cli(['approvals', 'show', id, '--json', ...db], { env });
    const r = JSON.parse(shown.stdout) as ApprovalRequest;
    expect(r.votes).toMatchObject([{ vote: 'deny', principal: 'bob', actor: expect.stringMatching(/^local:/), comment: 'not today' }]);
  }, 60_000);
});
