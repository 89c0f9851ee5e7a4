import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Logger } from 'pino';
import { systemClock } from '../domain/clock.js';
import { WardenError, type AuditSink } from '../domain/index.js';
import type { SessionIdentity } from '../gateway/ports.js';
import { ABUSE_READERS, createIdentityService, holdsAt, personOf, type Credential } from '../identity/index.js';
import { createIdentityRepo, migrate, openDatabase } from '../store/index.js';
import { ANALYST_SERVER, analystPolicy, createAnalystServer } from './analyst-mcp.js';
import { analystServices } from './analyst-services.js';
import { createCore, type Core, type DatabaseLocation } from './core.js';
import { openGateway, type GatewayRuntime } from './gateway-runtime.js';

/** What `warden mcp` starts from: the store, the analyst's token, and the session's names. */
export interface AnalystGatewayOptions {
  database: DatabaseLocation;
  /** The analyst's API token (`WARDEN_TOKEN`): their roles bound every tool the agent calls. */
  token: string;
  /** Must be the token's tenant when given. */
  tenant?: string | undefined;
  /** The scope the agent's calls are filed under. @default the token's scope, else the tenant's root (its id) */
  scope?: string | undefined;
  agentId: string;
  /** The tenant's own policy files, served after the built-in analyst policy. */
  policies: readonly string[];
  approvalWaitMs?: number | undefined;
  auditKeyFile?: string | undefined;
  env?: Readonly<Record<string, string | undefined>>;
  logger: Logger;
}

/** A started analyst gateway: serve `gateway` to the agent with `identity`. */
export interface AnalystGateway {
  runtime: GatewayRuntime;
  identity: SessionIdentity;
  credential: Credential;
  close(): Promise<void>;
}

/** Token lookups read the store and append nothing; this sink is never called. */
const NO_EVENTS: Pick<AuditSink, 'append'> = { append: async () => {} };

/**
 * The person behind the token, if they may run an analyst's agent: a person's token (not an agent's
 * or an enforcer's) that reads abuse work somewhere (`owner`, `admin`, `analyst` or `auditor`).
 */
function analystOf(c: Credential): void {
  const roles = c.grants.map((g) => g.role);
  if (!roles.some((r) => ABUSE_READERS.includes(r)) || roles.some((r) => r === 'agent' || r === 'enforcer')) {
    throw new WardenError('auth.forbidden', `\`warden mcp\` runs for a person holding \`owner\`, \`admin\`, \`analyst\` or \`auditor\`; this token holds ${roles.map((r) => `\`${r}\``).join(', ') || 'no role'}`, {
      help: 'ask an owner or admin for an analyst token (`warden token create --role analyst --principal YOU`)',
    });
  }
}

/** The scope the session is filed under: the one asked for (where the token's roles must hold), else the token's own, else the tenant's root. */
function scopeOf(c: Credential, asked: string | undefined): string {
  const own = c.grants.find((g) => g.scope !== undefined)?.scope;
  const scope = asked ?? own ?? c.tenantId;
  if (asked !== undefined && !holdsAt(c.grants, ABUSE_READERS, asked)) {
    throw new WardenError('auth.forbidden', `the token's roles do not hold at scope \`${asked}\`; pass a scope at or below \`${own ?? c.tenantId}\``);
  }
  return scope;
}

/**
 * Warden as an MCP server for an analyst's agent: the analyst tools ({@link createAnalystServer},
 * bound to the analyst's credential) as the one upstream, `warden`, of a gateway on a core that
 * serves the built-in analyst policy ({@link analystPolicy}) before the tenant's own. Every call
 * passes the checkpoint (decided, audited; mitigations wait for another person's approval).
 *
 * The token is read before the core is built: the policy is filed at the session's scope, which
 * comes from the token.
 */
export async function openAnalystGateway(o: AnalystGatewayOptions): Promise<AnalystGateway> {
  const database = await openDatabase(o.database);
  let core: Core | undefined;
  try {
    await migrate(database.db);
    const credential = await createIdentityService({ store: createIdentityRepo(database.db), audit: NO_EVENTS, clock: systemClock }).authenticate(o.token);
    analystOf(credential);
    if (o.tenant !== undefined && o.tenant !== credential.tenantId) throw new WardenError('auth.forbidden', `the token belongs to tenant \`${credential.tenantId}\`, not \`${o.tenant}\``);
    const scope = scopeOf(credential, o.scope);
    const built = await createCore(
      { database: o.database, policies: o.policies, watchPolicies: o.policies.length > 0, builtinPolicies: [analystPolicy(scope)], ...(o.auditKeyFile ? { auditKeyFile: o.auditKeyFile } : {}) },
      { database, logger: o.logger, createAuditKey: true, ...(o.env ? { env: o.env } : {}) },
    );
    core = built;
    // It writes events, so it seals them and runs retention like a server.
    built.startTimers();
    const services = analystServices(built, credential);
    const runtime = await openGateway({
      policies: [],
      scope,
      tenant: credential.tenantId,
      upstreams: [
        {
          name: ANALYST_SERVER,
          transport: () => {
            const [client, server] = InMemoryTransport.createLinkedPair();
            void createAnalystServer(services).connect(server);
            return client;
          },
        },
      ],
      database: { shared: built },
      ...(o.approvalWaitMs !== undefined ? { approvalWaitMs: o.approvalWaitMs } : {}),
      logger: o.logger,
    }).ready;
    const identity: SessionIdentity = {
      agentId: o.agentId,
      scope,
      principal: { id: personOf(credential), roles: credential.grants.map((g) => g.role) },
      via: 'token',
      tenantId: credential.tenantId,
      token: { id: credential.id, name: credential.name },
    };
    return {
      runtime,
      identity,
      credential,
      async close() {
        await runtime.close();
        await built.close();
        await database.close();
      },
    };
  } catch (err) {
    await core?.close().catch(() => {});
    await database.close().catch(() => {});
    throw err;
  }
}
