import type { Command } from 'commander';
import type { AgentRecord, Registry, RegistryStatus, ServerRecord, ToolRecord } from '../../registry/index.js';
import type { Core } from '../../main/core.js';
import { localActor } from '../local-actor.js';
import { CliError, EXIT, printableLines, type CliIo } from '../io.js';
import type { Remote } from '../remote.js';
import { DEFAULT_TENANT, getOrUndefined, remoteOrDirect, seg, type DirectFlags } from '../remote-or-direct.js';
import { withStoreOptions } from '../with-core.js';
import { jsonText } from '../json-output.js';
import { formatOf, withFormatOption, type Format } from './format.js';

type Flags = DirectFlags & { format?: string; json?: boolean };

const RISKS = ['low', 'medium', 'high', 'critical'] as const;
const STATUSES = ['pending', 'approved', 'blocked'] as const;

/** The registry of the tenant `--tenant` names (direct mode only). */
const registryOf = (core: Core, flags: Flags): Registry => core.registry.forTenant(flags.tenant ?? DEFAULT_TENANT);

/** Runs through WARDEN_URL, or on the database's registry; writes are durable and audited before it returns. */
function either<T>(io: CliIo, flags: Flags, remote: (r: Remote) => Promise<T>, direct: (registry: Registry) => Promise<T>): Promise<T> {
  return remoteOrDirect(io, flags, remote, (core) => direct(registryOf(core, flags)));
}

function opts(cmd: Command): Command {
  return withFormatOption(withStoreOptions(cmd)).option('--tenant <id>', `the tenant (database access only; through a server the token names it) [${DEFAULT_TENANT}]`);
}

function toolLine(t: ToolRecord): string {
  const changed = t.observedHash !== t.pinnedHash ? ' (definition changed)' : '';
  return `${`${t.server}.${t.name}`.padEnd(44)} ${t.status.padEnd(9)} risk=${t.risk ?? '-'}${t.owner ? ` owner=${t.owner}` : ''}${changed}`;
}

function print(io: CliIo, format: Format, value: unknown, human: () => string): void {
  // Names, owners and reasons come from servers and other users: no terminal control reaches the screen.
  io.stdout(format === 'json' ? jsonText(value) : printableLines(human()));
}

const named = (server: string, tool: string | undefined) => (tool === undefined ? `server ${server}` : `${server}.${tool}`);

/** `warden registry list|show|approve|block|suspend|resume`: the tool registry, through WARDEN_URL or on the database. */
export function registerRegistry(program: Command, io: CliIo, done: (code: number) => void): Command {
  const registry = program.command('registry').description('inspect and govern registered MCP servers, tools and agents');

  opts(registry.command('list').description('list servers and tools').option('--server <name>', 'only this server').option('--status <status>', 'pending, approved or blocked')).action(
    async (o: Flags & { server?: string; status?: string }) => {
      const format = formatOf(o);
      if (o.status !== undefined && !STATUSES.includes(o.status as RegistryStatus)) throw new CliError(`unknown status \`${o.status}\`; use pending, approved or blocked`);
      const status = o.status as RegistryStatus | undefined;
      const out: { servers: ServerRecord[]; tools: ToolRecord[]; agents: AgentRecord[] } = await either(
        io,
        o,
        async (r) => {
          const query = new URLSearchParams({ ...(o.server ? { server: o.server } : {}), ...(status ? { status } : {}) }).toString();
          const [servers, tools, agents] = await Promise.all([
            r.request<{ servers: ServerRecord[] }>('GET', '/api/v1/registry/servers'),
            r.request<{ tools: ToolRecord[] }>('GET', `/api/v1/registry/tools${query ? `?${query}` : ''}`),
            o.server ? { agents: [] } : r.request<{ agents: AgentRecord[] }>('GET', '/api/v1/registry/agents'),
          ]);
          return { servers: servers.servers.filter((s) => o.server === undefined || s.name === o.server), tools: tools.tools, agents: agents.agents };
        },
        async (r) => ({
          servers: (await r.listServers()).filter((s) => o.server === undefined || s.name === o.server),
          tools: await r.listTools({ ...(o.server ? { server: o.server } : {}), ...(status ? { status } : {}) }),
          agents: o.server ? [] : await r.listAgents(),
        }),
      );
      print(io, format, out, () => {
        const lines = out.servers.map((s) => `server ${s.name.padEnd(37)} ${s.status.padEnd(9)} scope=${s.scope}`);
        lines.push(...out.tools.map(toolLine));
        lines.push(...out.agents.map((a) => `agent  ${a.id.padEnd(37)} ${a.status}`));
        return lines.length ? `${lines.join('\n')}\n` : 'the registry is empty\n';
      });
      done(EXIT.ok);
    },
  );

  opts(registry.command('show').description('show one server or tool in full').argument('<server>').argument('[tool]')).action(async (server: string, tool: string | undefined, o: Flags) => {
    const format = formatOf(o);
    const value = await either<ServerRecord | ToolRecord | undefined>(
      io,
      o,
      (r) => getOrUndefined(r, tool === undefined ? `/api/v1/registry/servers/${seg(server)}` : `/api/v1/registry/tools/${seg(server)}/${seg(tool)}`),
      (r) => (tool === undefined ? r.getServer(server) : r.getTool(server, tool)),
    );
    if (!value) throw new CliError(tool === undefined ? `server \`${server}\` is not in the registry` : `tool \`${tool}\` on server \`${server}\` is not in the registry`, EXIT.findings);
    print(io, format, value, () => jsonText(value));
    done(EXIT.ok);
  });

  opts(
    registry
      .command('approve')
      .description("approve a server or a tool, pinning the tool's current definition")
      .argument('<server>')
      .argument('[tool]')
      .option('--owner <owner>')
      .option('--risk <risk>', 'low, medium, high or critical (tools)')
      .option('--classification <label>', '(tools)')
      .option('--capabilities <list>', 'comma-separated: network, filesystem, exec, secrets… (tools)'),
  ).action(async (server: string, tool: string | undefined, o: Flags & { owner?: string; risk?: string; classification?: string; capabilities?: string }) => {
    if (o.risk !== undefined && !RISKS.includes(o.risk as (typeof RISKS)[number])) throw new CliError(`unknown risk \`${o.risk}\`; use low, medium, high or critical`);
    if (tool === undefined && (o.risk !== undefined || o.classification !== undefined || o.capabilities !== undefined)) throw new CliError('`--risk`, `--classification` and `--capabilities` describe a tool; name one after the server');
    const facts = {
      ...(o.owner !== undefined ? { owner: o.owner } : {}),
      ...(o.risk !== undefined ? { risk: o.risk as ToolRecord['risk'] } : {}),
      ...(o.classification !== undefined ? { classification: o.classification } : {}),
      ...(o.capabilities !== undefined ? { capabilities: o.capabilities.split(',').filter(Boolean) } : {}),
    };
    await either(
      io,
      o,
      (r) => r.request('POST', tool === undefined ? `/api/v1/registry/servers/${seg(server)}/approve` : `/api/v1/registry/tools/${seg(server)}/${seg(tool)}/approve`, facts),
      (r) => r.approve(server, tool, facts, localActor()),
    );
    io.stdout(`approved ${named(server, tool)}\n`);
    done(EXIT.ok);
  });

  opts(registry.command('block').description('block a server (all its tools) or one tool').argument('<server>').argument('[tool]').option('--reason <text>')).action(
    async (server: string, tool: string | undefined, o: Flags & { reason?: string }) => {
      await either(
        io,
        o,
        (r) => r.request('POST', tool === undefined ? `/api/v1/registry/servers/${seg(server)}/block` : `/api/v1/registry/tools/${seg(server)}/${seg(tool)}/block`, o.reason !== undefined ? { reason: o.reason } : {}),
        (r) => r.block(server, tool, o.reason, localActor()),
      );
      io.stdout(`blocked ${named(server, tool)}\n`);
      done(EXIT.ok);
    },
  );

  for (const [name, status, description] of [
    ['suspend', 'suspended', 'suspend an agent: every gateway and the decision API refuse its calls until it is resumed'],
    ['resume', 'active', 'resume a suspended agent: its calls are decided by policy again'],
  ] as const) {
    opts(registry.command(name).description(description).argument('<agent>')).action(async (agent: string, o: Flags) => {
      await either(
        io,
        o,
        (r) => r.request('POST', `/api/v1/registry/agents/${seg(agent)}/${name}`),
        (r) => r.setAgentStatus(agent, status, localActor()),
      );
      io.stdout(`${status === 'suspended' ? 'suspended' : 'resumed'} agent ${agent}\n`);
      done(EXIT.ok);
    });
  }
  return registry;
}
