import { localActor } from '../local-actor.js';
import type { Command } from 'commander';
import type { Registry, RegistryStatus, ToolRecord } from '../../registry/index.js';
import { CliError, EXIT, type CliIo } from '../io.js';
import { formatOf, withFormatOption, type Format } from './format.js';
import { withCore, withStoreOptions } from '../with-core.js';

interface DbFlags {
  dataDir?: string;
  databaseUrl?: string;
  format?: string;
  json?: boolean;
}

const RISKS = ['low', 'medium', 'high', 'critical'] as const;
const STATUSES = ['pending', 'approved', 'blocked'] as const;

/** Runs `fn` on the core's registry over the configured database; writes are durable and audited before it returns. */
function withRegistry<T>(io: CliIo, flags: DbFlags, fn: (registry: Registry) => Promise<T>): Promise<T> {
  return withCore(io, flags, (core) => fn(core.registry));
}

function dbOptions(cmd: Command): Command {
  return withFormatOption(withStoreOptions(cmd));
}

function toolLine(t: ToolRecord): string {
  const changed = t.observedHash !== t.pinnedHash ? ' (definition changed)' : '';
  return `${`${t.server}.${t.name}`.padEnd(44)} ${t.status.padEnd(9)} risk=${t.risk ?? '-'}${t.owner ? ` owner=${t.owner}` : ''}${changed}`;
}

function print(io: CliIo, format: Format, value: unknown, human: () => string): void {
  io.stdout(format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : human());
}

/** `warden registry list|show|approve|block|suspend|resume`: the tool registry. */
export function registerRegistry(program: Command, io: CliIo, done: (code: number) => void): Command {
  const registry = program.command('registry').description('inspect and govern registered MCP servers, tools and agents');

  dbOptions(registry.command('list').description('list servers and tools').option('--server <name>', 'only this server').option('--status <status>', 'pending, approved or blocked')).action(
    async (opts: DbFlags & { server?: string; status?: string }) => {
      const format = formatOf(opts);
      if (opts.status !== undefined && !STATUSES.includes(opts.status as RegistryStatus)) throw new CliError(`unknown status \`${opts.status}\`; use pending, approved or blocked`);
      const out = await withRegistry(io, opts, async (r) => ({
        servers: (await r.listServers()).filter((s) => opts.server === undefined || s.name === opts.server),
        tools: await r.listTools({ ...(opts.server ? { server: opts.server } : {}), ...(opts.status ? { status: opts.status as RegistryStatus } : {}) }),
        agents: opts.server ? [] : await r.listAgents(),
      }));
      print(io, format, out, () => {
        const lines = out.servers.map((s) => `server ${s.name.padEnd(37)} ${s.status.padEnd(9)} scope=${s.scope}`);
        lines.push(...out.tools.map(toolLine));
        lines.push(...out.agents.map((a) => `agent  ${a.id.padEnd(37)} ${a.status}`));
        return lines.length ? `${lines.join('\n')}\n` : 'the registry is empty\n';
      });
      done(EXIT.ok);
    },
  );

  dbOptions(registry.command('show').description('show one server or tool in full').argument('<server>').argument('[tool]')).action(async (server: string, tool: string | undefined, opts: DbFlags) => {
    const format = formatOf(opts);
    const value = await withRegistry<unknown>(io, opts, (r) => (tool === undefined ? r.getServer(server) : r.getTool(server, tool)));
    if (!value) throw new CliError(tool === undefined ? `server \`${server}\` is not in the registry` : `tool \`${tool}\` on server \`${server}\` is not in the registry`, EXIT.findings);
    print(io, format, value, () => `${JSON.stringify(value, null, 2)}\n`);
    done(EXIT.ok);
  });

  dbOptions(
    registry
      .command('approve')
      .description("approve a server or a tool, pinning the tool's current definition")
      .argument('<server>')
      .argument('[tool]')
      .option('--owner <owner>')
      .option('--risk <risk>', 'low, medium, high or critical')
      .option('--classification <label>')
      .option('--capabilities <list>', 'comma-separated: network, filesystem, exec, secrets…'),
  ).action(async (server: string, tool: string | undefined, opts: DbFlags & { owner?: string; risk?: string; classification?: string; capabilities?: string }) => {
    if (opts.risk !== undefined && !RISKS.includes(opts.risk as (typeof RISKS)[number])) throw new CliError(`unknown risk \`${opts.risk}\`; use low, medium, high or critical`);
    await withRegistry(io, opts, (r) =>
      r.approve(
        server,
        tool,
        {
          owner: opts.owner,
          risk: opts.risk as ToolRecord['risk'],
          classification: opts.classification,
          capabilities: opts.capabilities?.split(',').filter(Boolean),
        },
        localActor(),
      ),
    );
    io.stdout(`approved ${tool === undefined ? `server ${server}` : `${server}.${tool}`}\n`);
    done(EXIT.ok);
  });

  dbOptions(registry.command('block').description('block a server (all its tools) or one tool').argument('<server>').argument('[tool]').option('--reason <text>')).action(
    async (server: string, tool: string | undefined, opts: DbFlags & { reason?: string }) => {
      await withRegistry(io, opts, (r) => r.block(server, tool, opts.reason, localActor()));
      io.stdout(`blocked ${tool === undefined ? `server ${server}` : `${server}.${tool}`}\n`);
      done(EXIT.ok);
    },
  );

  for (const [name, status, description] of [
    ['suspend', 'suspended', "suspend an agent: every gateway and the decision API refuse its calls until it is resumed"],
    ['resume', 'active', 'resume a suspended agent: its calls are decided by policy again'],
  ] as const) {
    dbOptions(registry.command(name).description(description).argument('<agent>')).action(async (agent: string, opts: DbFlags) => {
      await withRegistry(io, opts, (r) => r.setAgentStatus(agent, status, localActor()));
      io.stdout(`${status === 'suspended' ? 'suspended' : 'resumed'} agent ${agent}\n`);
      done(EXIT.ok);
    });
  }
  return registry;
}
