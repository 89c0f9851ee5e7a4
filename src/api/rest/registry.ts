import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { WardenError } from '../../domain/index.js';
import { actorOf, holdsAt, type Credential, type Role } from '../../identity/index.js';
import type { Registry, ServerRecord } from '../../registry/index.js';
import { credentialOf } from '../auth.js';
import { registryReads } from '../reads/registry.js';
import {
  AgentParams,
  AgentRecordSchema,
  BlockBody,
  ServerApproveBody,
  ServerParams,
  ServerRecordSchema,
  ToolApproveBody,
  ToolParams,
  ToolRecordSchema,
  ToolsQuery,
} from './registry-schemas.js';

/** Roles that change the registry (at the server's scope). */
const WRITERS: readonly Role[] = ['owner', 'admin'];

function forbidden(c: Credential, what: string, scope: string | undefined): WardenError {
  return new WardenError('auth.forbidden', `changing ${what} needs \`owner\` or \`admin\` at ${scope === undefined ? 'the whole tenant' : `scope \`${scope}\``}`, {
    help: `this credential holds ${c.grants.map((g) => `\`${g.role}\` at ${g.scope ?? 'the whole tenant'}`).join(', ') || 'no role'}`,
  });
}

const actor = (req: FastifyRequest) => actorOf(credentialOf(req), { ip: req.ip, userAgent: req.headers['user-agent'] });

/**
 * The tool registry of the caller's tenant: servers, tools and agents, read by every person's role
 * where it holds at the server's scope; approved and blocked by `owner` and `admin` at that scope.
 * Agents belong to the whole tenant. Every change is an audit event naming the credential.
 */
export function registryRoutes(app: FastifyInstance, deps: { registry: Pick<Registry, 'forTenant'> }): void {
  const registryOf = (c: Credential) => deps.registry.forTenant(c.tenantId);
  const reads = registryReads(deps.registry);
  const readable = (c: Credential, name: string, tool?: string): Promise<ServerRecord> => reads.server(c, name, tool);
  /** The server when the caller may change it: 404 when it may not even read it, 403 when it only reads. */
  const writable = async (c: Credential, name: string, tool?: string): Promise<ServerRecord> => {
    const server = await readable(c, name, tool);
    if (!holdsAt(c.grants, WRITERS, server.scope)) throw forbidden(c, tool === undefined ? `server \`${name}\`` : `tool \`${name}.${tool}\``, server.scope);
    return server;
  };
  const toolOf = (c: Credential, server: string, tool: string) => reads.tool(c, server, tool);

  app.get('/api/v1/registry/servers', { schema: { summary: 'the servers of the tenant the caller may read', response: { 200: Type.Object({ servers: Type.Array(ServerRecordSchema) }) } } }, async (req) => {
    return { servers: await reads.servers(credentialOf(req)) };
  });

  app.get<{ Params: ServerParams }>('/api/v1/registry/servers/:server', { schema: { summary: 'one server', params: ServerParams, response: { 200: ServerRecordSchema } } }, async (req) =>
    readable(credentialOf(req), req.params.server),
  );

  app.get<{ Querystring: ToolsQuery }>(
    '/api/v1/registry/tools',
    { schema: { summary: "the tools of the servers the caller may read, by server and name", querystring: ToolsQuery, response: { 200: Type.Object({ tools: Type.Array(ToolRecordSchema) }) } } },
    async (req) => ({ tools: await reads.tools(credentialOf(req), req.query) }),
  );

  app.get<{ Params: ToolParams }>('/api/v1/registry/tools/:server/:tool', { schema: { summary: 'one tool, with its definition', params: ToolParams, response: { 200: ToolRecordSchema } } }, async (req) =>
    toolOf(credentialOf(req), req.params.server, req.params.tool),
  );

  app.get('/api/v1/registry/agents', { schema: { summary: 'the agents of the tenant and their status', response: { 200: Type.Object({ agents: Type.Array(AgentRecordSchema) }) } } }, async (req) => ({
    agents: await reads.agents(credentialOf(req)),
  }));

  app.post<{ Params: ServerParams; Body: ServerApproveBody }>(
    '/api/v1/registry/servers/:server/approve',
    { schema: { summary: 'approve a server', params: ServerParams, body: ServerApproveBody, response: { 200: ServerRecordSchema } } },
    async (req) => {
      const c = credentialOf(req);
      await writable(c, req.params.server);
      const r = registryOf(c);
      await r.approve(req.params.server, undefined, { owner: req.body.owner }, actor(req));
      return readable(c, req.params.server);
    },
  );

  app.post<{ Params: ServerParams; Body: BlockBody }>(
    '/api/v1/registry/servers/:server/block',
    { schema: { summary: 'block a server and so every tool on it', params: ServerParams, body: BlockBody, response: { 200: ServerRecordSchema } } },
    async (req) => {
      const c = credentialOf(req);
      await writable(c, req.params.server);
      await registryOf(c).block(req.params.server, undefined, req.body.reason, actor(req));
      return readable(c, req.params.server);
    },
  );

  app.post<{ Params: ToolParams; Body: ToolApproveBody }>(
    '/api/v1/registry/tools/:server/:tool/approve',
    { schema: { summary: "approve a tool, pinning its current definition", params: ToolParams, body: ToolApproveBody, response: { 200: ToolRecordSchema } } },
    async (req) => {
      const c = credentialOf(req);
      const { server, tool } = req.params;
      await writable(c, server, tool);
      await registryOf(c).approve(server, tool, req.body, actor(req));
      return toolOf(c, server, tool);
    },
  );

  app.post<{ Params: ToolParams; Body: BlockBody }>(
    '/api/v1/registry/tools/:server/:tool/block',
    { schema: { summary: 'block one tool', params: ToolParams, body: BlockBody, response: { 200: ToolRecordSchema } } },
    async (req) => {
      const c = credentialOf(req);
      const { server, tool } = req.params;
      await writable(c, server, tool);
      await registryOf(c).block(server, tool, req.body.reason, actor(req));
      return toolOf(c, server, tool);
    },
  );

  for (const [verb, status] of [
    ['suspend', 'suspended'],
    ['resume', 'active'],
  ] as const) {
    app.post<{ Params: AgentParams }>(
      `/api/v1/registry/agents/:id/${verb}`,
      {
        schema: {
          summary: verb === 'suspend' ? 'suspend an agent: every gateway and the decision API refuse its calls (an unknown agent is registered suspended)' : 'resume a suspended agent',
          params: AgentParams,
          response: { 200: AgentRecordSchema },
        },
      },
      async (req) => {
        const c = credentialOf(req);
        // Agents are not filed under a scope: suspending one stops it everywhere in the tenant.
        if (!holdsAt(c.grants, WRITERS, undefined)) throw forbidden(c, `agent \`${req.params.id}\``, undefined);
        const r = registryOf(c);
        await r.setAgentStatus(req.params.id, status, actor(req));
        const agent = await r.getAgent(req.params.id);
        if (!agent) throw new WardenError('internal', `agent \`${req.params.id}\` vanished after its status was set`);
        return agent;
      },
    );
  }
}
