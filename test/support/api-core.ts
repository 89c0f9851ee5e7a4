import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions } from 'fastify';
import type { Clock } from '../../src/domain/index.js';
import pino, { type Logger } from 'pino';
import { createCore, createServerApp, type Core } from '../../src/main/index.js';
import { ROLES, type Credential, type Role } from '../../src/identity/index.js';

/** The API as `warden serve` builds it, in process: the routes over one core. */
export interface ApiUnderTest {
  core: Core;
  app: FastifyInstance;
  /** One token per role in tenant `default`, tenant-wide; the `agent` one acts as `agent-1`. */
  tokens: Record<Role, string>;
  /** The `authorization` header of a role's token. @default enforcer (it may assert any principal, agent and time) */
  auth(role?: Role): { authorization: string };
  close(): Promise<void>;
}

/** The local operator of tenant `tenantId`: what `warden token create` on the database acts as. */
export function operator(tenantId = 'default'): Credential {
  return { tenantId, method: 'local', id: 'test', name: 'test operator', grants: [{ role: 'owner' }] };
}

/** A token per role in one tenant, made by its operator. */
export async function roleTokens(core: Core, tenantId = 'default'): Promise<Record<Role, string>> {
  const out = {} as Record<Role, string>;
  for (const role of ROLES) out[role] = (await core.identity.createToken(operator(tenantId), { name: `test-${role}`, role, ...(role === 'agent' ? { agentId: 'agent-1' } : {}) })).token;
  return out;
}

/**
 * `createServerApp` over a core on an in-memory store with one policy file and one configured
 * streaming destination, `siem` (the core's timers never run here, so nothing is delivered).
 */
export async function apiCore(
  policyYaml: string,
  opts: { logger?: Logger; clock?: Clock; capture?: { args?: boolean; results?: boolean }; checks?: { secret?: string; allowHosts?: readonly string[] } } = {},
): Promise<ApiUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-api-'));
  writeFileSync(join(dir, 'p.yaml'), policyYaml);
  // Beside, not inside, the policy directory: every `*.yaml` in it is read as a policy.
  const destinations = join(mkdtempSync(join(tmpdir(), 'warden-api-dest-')), 'destinations.yaml');
  writeFileSync(destinations, 'apiVersion: warden.dev/v1\nkind: AuditDestination\nmetadata: { name: siem }\nspec: { webhook: { url: "http://127.0.0.1:9/none", secretEnv: SIEM_SECRET } }\n');
  const checks = opts.checks ? { checkSecret: opts.checks.secret, checkAllowHosts: opts.checks.allowHosts ?? [] } : {};
  const core = await createCore({ database: { memory: true }, policies: [dir], destinationsFile: destinations, ...(opts.capture ? { auditCapture: opts.capture } : {}), ...checks }, { logger: pino({ level: 'silent' }), env: { SIEM_SECRET: 'x' }, ...(opts.clock ? { clock: opts.clock } : {}) });
  const app = createServerApp(core, opts.logger ? { logger: opts.logger } : {});
  const tokens = await roleTokens(core);
  return {
    core,
    app,
    tokens,
    auth: (role = 'enforcer') => ({ authorization: `Bearer ${tokens[role]}` }),
    async close() {
      await app.close();
      await core.close();
    },
  };
}

/**
 * The app with `headers` on every injected request (a request's own headers win): for suites that
 * test routes, not authentication, which test/route-roles.test.ts and test/tenancy.test.ts cover.
 */
export function withHeaders(app: FastifyInstance, headers: Record<string, string> | ((url: string) => Record<string, string>)): FastifyInstance {
  return new Proxy(app, {
    get(target, prop, receiver) {
      if (prop !== 'inject') return Reflect.get(target, prop, receiver) as unknown;
      return (o: InjectOptions | string) => {
        const opts = typeof o === 'string' ? { url: o } : o;
        const base = typeof headers === 'function' ? headers(String(opts.url ?? '')) : headers;
        return target.inject({ ...opts, headers: { ...base, ...(opts.headers ?? {}) } });
      };
    },
  });
}

/** The app as an enforcer decides and an owner reads and administers. */
export function authed(api: ApiUnderTest): FastifyInstance {
  return withHeaders(api.app, (url) => api.auth(url.startsWith('/api/v1/decide') ? 'enforcer' : 'owner'));
}
