import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { AuditEvent } from '../src/domain/index.js';
import type { Role, TokenInfo } from '../src/identity/index.js';
import { createCore, createServerApp, type Core } from '../src/main/index.js';
import { withTenant } from '../src/store/index.js';
import { operator, roleTokens } from './support/api-core.js';
import { dialects, type FreshDatabase } from './support/databases.js';

// Done-when of issue 12: with a token of tenant A nothing of tenant B is visible or changeable through
// any route, on both databases; and row-level security holds when a query forgets its tenant filter.
const all = await dialects();

const POLICY = `apiVersion: warden.dev/v1
kind: ScopeSettings
metadata: { scope: acme }
spec: { defaultEffect: allow }
`;
const TENANTS = ['t-alpha', 't-beta', 't-gamma', 't-delta', 't-eps'];

/** A small deterministic PRNG, so a failure names a seed that reproduces it. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

for (const dialect of all) {
  describe(`tenant isolation on ${dialect.name}`, () => {
    let fresh: FreshDatabase;
    let core: Core;
    let app: FastifyInstance;
    const tokens = new Map<string, Record<Role, string>>();
    const scopedAuditor = new Map<string, string>();
    const tokenIds = new Map<string, string[]>();

    const call = (tenant: string, role: Role, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) =>
      app.inject({ method, url, headers: { authorization: `Bearer ${tokens.get(tenant)![role]}` }, ...(payload ? { payload } : {}) });

    beforeAll(async () => {
      fresh = await dialect.fresh();
      const dir = mkdtempSync(join(tmpdir(), 'warden-tenancy-'));
      writeFileSync(join(dir, 'p.yaml'), POLICY);
      core = await createCore({ database: { memory: true }, policies: [dir] }, { logger: pino({ level: 'silent' }), database: fresh.database });
      app = createServerApp(core);
      for (const t of TENANTS) {
        expect((await core.identity.createTenant(undefined, { id: t, name: t.toUpperCase() })).created).toBe(true);
        tokens.set(t, await roleTokens(core, t));
        scopedAuditor.set(t, (await core.identity.createToken(operator(t), { name: 'payments-auditor', role: 'auditor', scope: 'acme/payments' })).token);
        // The same scope paths and agent ids in every tenant: only the tenant tells them apart.
        for (const [scope, agent] of [['acme/payments', 'shared-agent'], ['acme/web', `own-${t}`], ['acme/payments/api', 'shared-agent']]) {
          const res = await call(t, 'enforcer', 'POST', '/api/v1/decide', { kind: 'tool.call', scope, agent: { id: agent }, principal: { id: `person-of-${t}` }, tool: { server: 'files', name: 'files.read' }, args: { secret: `marker-${t}` } });
          expect(res.statusCode).toBe(200);
        }
        tokenIds.set(t, (await core.identity.listTokens(operator(t))).map((i) => i.id));
      }
      await core.flush();
    }, 120_000);
    afterAll(async () => {
      await app?.close();
      await core?.close();
      await fresh?.dispose();
    });

    it('every route answers a tenant with its own rows only (randomized over tenants, roles and routes)', async () => {
      const seed = Number(process.env.WARDEN_TENANCY_SEED ?? Date.now() % 100_000);
      const rnd = prng(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
      const probes: ((a: string, b: string) => Promise<void>)[] = [
        async (a, b) => {
          const role = pick<Role>(['owner', 'admin', 'auditor', 'analyst']);
          const page = (await call(a, role, 'GET', '/api/v1/audit/events?limit=1000')).json() as { events: AuditEvent[] };
          expect(page.events.length).toBeGreaterThan(0);
          for (const e of page.events) expect(e.tenantId).toBe(a);
          expect(JSON.stringify(page.events)).not.toContain(`own-${b}`);
          expect(JSON.stringify(page.events)).not.toContain(`person-of-${b}`);
          const text = (await call(a, role, 'GET', `/api/v1/audit/events?q=${encodeURIComponent(`person-of-${b}`)}`)).json() as { events: AuditEvent[] };
          expect(text.events).toEqual([]);
        },
        async (a) => {
          const list = (await call(a, pick<Role>(['owner', 'admin']), 'GET', '/api/v1/tokens')).json() as { tokens: TokenInfo[] };
          expect(list.tokens.length).toBeGreaterThan(0);
          for (const t of list.tokens) expect(t.tenantId).toBe(a);
        },
        async (a, b) => {
          const victim = pick(tokenIds.get(b)!);
          const revoke = await call(a, 'owner', 'DELETE', `/api/v1/tokens/${victim}`);
          expect(revoke.statusCode).toBe(404);
          const rotate = await call(a, 'admin', 'POST', `/api/v1/tokens/${victim}/rotate`);
          expect(rotate.statusCode).toBe(404);
        },
        async (a, b) => {
          const replay = await call(a, 'owner', 'POST', '/api/v1/audit/destinations/none/replay', { tenantId: b, fromSeq: 1 });
          // No destination is configured here, so the route is absent or refuses; never a replay of b.
          expect([403, 404]).toContain(replay.statusCode);
        },
        async (a) => {
          const who = (await call(a, pick<Role>(['viewer', 'agent', 'enforcer', 'approver']), 'GET', '/api/v1/whoami')).json() as { tenantId: string };
          expect(who.tenantId).toBe(a);
          const tenant = (await call(a, 'viewer', 'GET', '/api/v1/tenant')).json() as { id: string };
          expect(tenant.id).toBe(a);
        },
        async (a, b) => {
          const path = `acme/team-${Math.floor(rnd() * 1e6)}`;
          expect((await call(a, 'owner', 'PUT', `/api/v1/scopes/${path}`, { owner: `owner-of-${a}` })).statusCode).toBe(200);
          const theirs = (await call(b, 'viewer', 'GET', '/api/v1/scopes')).json() as { scopes: { path: string; owner: string | null }[] };
          expect(theirs.scopes.map((s) => s.owner)).not.toContain(`owner-of-${a}`);
          const ours = (await call(a, 'viewer', 'GET', '/api/v1/scopes')).json() as { scopes: { path: string }[] };
          expect(ours.scopes.map((s) => s.path)).toContain(path);
        },
        async (a) => {
          const scoped = await app.inject({ url: '/api/v1/audit/events?limit=1000', headers: { authorization: `Bearer ${scopedAuditor.get(a)!}` } });
          const events = (scoped.json() as { events: AuditEvent[] }).events;
          expect(events.length).toBeGreaterThan(0);
          for (const e of events) {
            expect(e.tenantId).toBe(a);
            expect(e.scope === 'acme/payments' || e.scope.startsWith('acme/payments/')).toBe(true);
          }
        },
      ];
      for (let i = 0; i < 60; i++) {
        const a = pick(TENANTS);
        const b = pick(TENANTS.filter((t) => t !== a));
        const probe = pick(probes);
        try {
          await probe(a, b);
        } catch (err) {
          throw new Error(`seed ${seed}, step ${i}, probe ${probes.indexOf(probe)}, tenant ${a} against ${b}: ${(err as Error).message}`);
        }
      }
      // Nothing another tenant tried revoked anyone's token.
      for (const t of TENANTS) expect((await call(t, 'viewer', 'GET', '/api/v1/whoami')).statusCode).toBe(200);
    });

    it("a registry block in one tenant does not touch another tenant's decisions", async () => {
      await core.registry.forTenant('t-beta').setAgentStatus('shared-agent', 'suspended', { type: 'user', id: 'test' });
      const act = { kind: 'tool.call', scope: 'acme/payments', agent: { id: 'shared-agent' }, tool: { server: 'files', name: 'files.read' } };
      expect((await call('t-beta', 'enforcer', 'POST', '/api/v1/decide', act)).json()).toMatchObject({ effect: 'deny', reasons: [{ rule: 'agent-suspended' }] });
      expect((await call('t-alpha', 'enforcer', 'POST', '/api/v1/decide', act)).json()).toMatchObject({ effect: 'allow' });
      await core.flush();
      // The suspension is in t-beta's chain, not default's.
      expect((await core.auditLog.list({ tenant: 't-beta', type: 'registry.agent.suspended', limit: 5 })).events).toHaveLength(1);
      expect((await core.auditLog.list({ tenant: 'default', type: 'registry.agent.suspended', limit: 5 })).events).toHaveLength(0);
    });

    it('row-level security: a query without its tenant filter still sees only its tenant', async () => {
      const db = fresh.database.db;
      const { rows: tables } = await sql<{ relname: string }>`
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1`.execute(db);
      expect(tables.map((t) => t.relname)).toEqual(expect.arrayContaining(['audit_events', 'api_tokens', 'scopes', 'registry_agents', 'audit_chain_heads']));
      for (const { relname } of tables) {
        // RLS is on for every tenant table (a new table without it fails here).
        const { rows: flags } = await sql<{ relrowsecurity: boolean }>`SELECT relrowsecurity FROM pg_class WHERE relname = ${relname}`.execute(db);
        expect(flags[0]!.relrowsecurity, relname).toBe(true);
        const { rows } = await withTenant(db, 't-gamma', (trx) => sql<{ tenant_id: string }>`SELECT tenant_id FROM ${sql.table(relname)}`.execute(trx));
        for (const r of rows) expect(r.tenant_id, relname).toBe('t-gamma');
      }
      const seen = await withTenant(db, 't-gamma', (trx) => sql<{ n: string | number }>`SELECT count(*) AS n FROM audit_events`.execute(trx));
      expect(Number(seen.rows[0]!.n)).toBeGreaterThan(0);
      const everyone = await sql<{ n: string | number }>`SELECT count(DISTINCT tenant_id) AS n FROM audit_events`.execute(db);
      expect(Number(everyone.rows[0]!.n)).toBeGreaterThanOrEqual(TENANTS.length);
      // Tenants: only its own row.
      const tenants = await withTenant(db, 't-gamma', (trx) => sql<{ id: string }>`SELECT id FROM tenants`.execute(trx));
      expect(tenants.rows.map((r) => r.id)).toEqual(['t-gamma']);
      // Writing another tenant's row is refused by the policy's WITH CHECK.
      await expect(
        withTenant(db, 't-gamma', (trx) => sql`UPDATE api_tokens SET revoked_at = now() WHERE tenant_id = 't-alpha'`.execute(trx)),
      ).resolves.toMatchObject({ numAffectedRows: 0n });
      await expect(
        withTenant(db, 't-gamma', (trx) => sql`INSERT INTO scopes (tenant_id, path, kind, updated_at) VALUES ('t-alpha', 'acme/x', 'group', now())`.execute(trx)),
      ).rejects.toThrow(/row-level security/);
    });
  });
}
