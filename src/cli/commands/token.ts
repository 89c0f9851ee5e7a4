import type { Command } from 'commander';
import { ROLES, type Credential, type CreatedToken, type Role, type Tenant, type TokenInfo } from '../../identity/index.js';
import { localActor } from '../local-actor.js';
import { CliError, EXIT, printable, type CliIo } from '../io.js';
import { normalizeUrl, remoteClient, remoteOf, storeToken, type Remote } from '../remote.js';
import { withCore, withStoreOptions, type StoreFlags } from '../with-core.js';
import { formatOf, withFormatOption, type Format } from './format.js';

type Flags = StoreFlags & { format?: string; json?: boolean; tenant?: string };

/** `30d`, `12h`, `90m`, `3600s` or an RFC 3339 time, to an expiry instant. */
export function parseExpiry(text: string, now: Date): string {
  const m = /^(\d{1,6})([smhd])$/.exec(text);
  if (m) {
    const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as 's' | 'm' | 'h' | 'd'];
    const sec = Number(m[1]) * unit;
    if (sec < 60) throw new CliError('`--expires` must be at least a minute');
    return new Date(now.getTime() + sec * 1000).toISOString();
  }
  const t = Date.parse(text);
  if (/^\d{4}-\d\d-\d\d/.test(text) && Number.isFinite(t)) {
    if (t <= now.getTime()) throw new CliError('`--expires` is in the past');
    return new Date(t).toISOString();
  }
  throw new CliError(`\`--expires ${text}\` is neither a duration (30d, 12h, 90m) nor an RFC 3339 time`);
}

/** The local operator as a credential: whoever holds the database holds every role in every tenant. */
function local(tenantId: string): Credential {
  const a = localActor();
  return { tenantId, method: 'local', id: a.id.replace(/^local:/, ''), name: a.name ?? a.id, grants: [{ role: 'owner' }] };
}

function idOf(text: string): string {
  const m = /^(?:wdn_)?([0-9a-f]{12})$/.exec(text);
  if (!m) throw new CliError(`\`${text}\` is not a token id; \`warden token list\` shows them (\`wdn_\` + 12 hex digits)`);
  return m[1]!;
}

function tokenLine(t: TokenInfo): string {
  return printable(rawTokenLine(t));
}

function rawTokenLine(t: TokenInfo): string {
  const status = t.revokedAt ? 'revoked' : t.expiresAt && Date.parse(t.expiresAt) <= Date.now() ? 'expired' : 'active';
  return `${t.prefix.padEnd(17)} ${t.name.slice(0, 24).padEnd(24)} ${t.role.padEnd(13)} ${(t.scope ?? '*').padEnd(24)} ${status.padEnd(8)} ${t.expiresAt ?? 'never'}${t.agentId ? ` agent=${t.agentId}` : ''}`;
}

function printCreated(io: CliIo, format: Format, created: CreatedToken): void {
  if (format === 'json') io.stdout(`${JSON.stringify(created, null, 2)}\n`);
  else {
    io.stdout(`${created.token}\n`);
    io.stderr(`created ${created.info.role} token ${created.info.prefix} (${created.info.name}) in tenant ${created.info.tenantId}${created.info.scope ? ` at ${created.info.scope}` : ''}; it is shown this once\n`);
  }
}

/** Runs against `WARDEN_URL` when set, else straight on the database as the local operator. */
async function either<T>(io: CliIo, flags: Flags, remote: (r: Remote) => Promise<T>, direct: (c: Credential, core: Parameters<Parameters<typeof withCore>[2]>[0]) => Promise<T>): Promise<T> {
  const r = await remoteOf(io);
  if (r) {
    if (flags.tenant !== undefined) throw new CliError('`--tenant` applies to the database directly; through a server the token names the tenant', EXIT.usage);
    return remote(r);
  }
  return withCore(io, flags, (core) => direct(local(flags.tenant ?? 'default'), core));
}

function opts(cmd: Command): Command {
  return withFormatOption(withStoreOptions(cmd)).option('--tenant <id>', 'the tenant (database access only; through a server the token names it) [default]');
}

/** `warden token create|list|revoke|rotate`, `warden tenant create|list`, `warden login|logout|whoami`. */
export function registerToken(program: Command, io: CliIo, done: (code: number) => void): Command {
  const token = program.command('token').description('create, list, revoke and rotate API tokens');

  opts(
    token
      .command('create')
      .description('create a token; it is printed once on stdout')
      .requiredOption('--role <role>', ROLES.join(', '))
      .option('--scope <path>', 'the scope the role holds at (and below); none: the whole tenant')
      .option('--name <name>', 'what the token is for')
      .option('--agent <id>', 'for --role agent: the agent it acts as')
      .option('--principal <id>', 'the person or service it is (default: its name)')
      .option('--expires <when>', 'a duration (30d, 12h) or an RFC 3339 time; none: never'),
  ).action(async (o: Flags & { role: string; scope?: string; name?: string; agent?: string; principal?: string; expires?: string }) => {
    if (!(ROLES as readonly string[]).includes(o.role)) throw new CliError(`unknown role \`${o.role}\`; roles: ${ROLES.join(', ')}`);
    const role = o.role as Role;
    const name = o.name ?? (role === 'agent' && o.agent ? `agent-${o.agent}` : role);
    const format = formatOf(o);
    const created = await either(
      io,
      o,
      (r) => {
        const body = { name, role, ...(o.scope ? { scope: o.scope } : {}), ...(o.agent ? { agentId: o.agent } : {}), ...(o.principal ? { principal: o.principal } : {}), ...(o.expires ? { expiresInSec: Math.round((Date.parse(parseExpiry(o.expires, new Date())) - Date.now()) / 1000) } : {}) };
        return r.request<CreatedToken>('POST', '/api/v1/tokens', body);
      },
      (c, core) => core.identity.createToken(c, { name, role, scope: o.scope, agentId: o.agent, principal: o.principal, expiresAt: o.expires ? parseExpiry(o.expires, core.clock.now()) : undefined }),
    );
    printCreated(io, format, created);
    done(EXIT.ok);
  });

  opts(token.command('list').description('list tokens (never their secrets)')).action(async (o: Flags) => {
    const tokens = await either(
      io,
      o,
      async (r) => (await r.request<{ tokens: TokenInfo[] }>('GET', '/api/v1/tokens')).tokens,
      (c, core) => core.identity.listTokens(c),
    );
    if (formatOf(o) === 'json') io.stdout(`${JSON.stringify({ tokens }, null, 2)}\n`);
    else io.stdout(tokens.length === 0 ? 'no tokens\n' : `${'PREFIX'.padEnd(17)} ${'NAME'.padEnd(24)} ${'ROLE'.padEnd(13)} ${'SCOPE'.padEnd(24)} ${'STATUS'.padEnd(8)} EXPIRES\n${tokens.map(tokenLine).join('\n')}\n`);
    done(EXIT.ok);
  });

  opts(token.command('revoke').description('revoke a token: it stops working within a second everywhere').argument('<id>', 'the token id or prefix (wdn_…)')).action(async (id: string, o: Flags) => {
    const info = await either(
      io,
      o,
      (r) => r.request<TokenInfo>('DELETE', `/api/v1/tokens/${idOf(id)}`),
      (c, core) => core.identity.revokeToken(c, idOf(id)),
    );
    if (formatOf(o) === 'json') io.stdout(`${JSON.stringify(info, null, 2)}\n`);
    else io.stdout(`revoked ${info.prefix} (${info.name})\n`);
    done(EXIT.ok);
  });

  opts(token.command('rotate').description('replace a token with a new secret and the same grants; the old one is revoked').argument('<id>', 'the token id or prefix (wdn_…)')).action(async (id: string, o: Flags) => {
    const created = await either(
      io,
      o,
      (r) => r.request<CreatedToken>('POST', `/api/v1/tokens/${idOf(id)}/rotate`),
      (c, core) => core.identity.rotateToken(c, idOf(id)),
    );
    printCreated(io, formatOf(o), created);
    done(EXIT.ok);
  });
  return token;
}

/** `warden tenant create|list`: tenants are made by whoever runs the installation (database access). */
export function registerTenant(program: Command, io: CliIo, done: (code: number) => void): Command {
  const tenant = program.command('tenant').description('create and list tenants');
  withFormatOption(withStoreOptions(tenant.command('create').description('create a tenant (an organization)').argument('<id>', 'lower-case letters, digits and -').requiredOption('--name <name>', 'its display name'))).action(
    async (id: string, o: StoreFlags & { name: string; format?: string; json?: boolean }) => {
      if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(id)) throw new CliError(`\`${id}\` is not a tenant id: lower-case letters, digits and \`-\`, at most 63`);
      const r = await withCore(io, o, (core) => core.identity.createTenant(localActorCredential(id), { id, name: o.name }));
      if (!r.created) throw new CliError(`tenant \`${id}\` exists already`, EXIT.usage);
      if (formatOf(o) === 'json') io.stdout(`${JSON.stringify(r.tenant, null, 2)}\n`);
      else io.stdout(`created tenant ${id}; make its first owner with: warden token create --tenant ${id} --role owner --name NAME\n`);
      done(EXIT.ok);
    },
  );
  for (const [name, status, description] of [
    ['suspend', 'suspended', "suspend a tenant: every token and OIDC sign-in of it stops working within a second"],
    ['resume', 'active', 'reactivate a suspended tenant'],
  ] as const) {
    withFormatOption(withStoreOptions(tenant.command(name).description(description).argument('<id>'))).action(async (id: string, o: StoreFlags & { format?: string; json?: boolean }) => {
      const t = await withCore(io, o, (core) => core.identity.setTenantStatus(local(id), id, status));
      if (formatOf(o) === 'json') io.stdout(`${JSON.stringify(t, null, 2)}\n`);
      else io.stdout(`${status === 'suspended' ? 'suspended' : 'resumed'} tenant ${id}\n`);
      done(EXIT.ok);
    });
  }
  withFormatOption(withStoreOptions(tenant.command('list').description('list tenants'))).action(async (o: StoreFlags & { format?: string; json?: boolean }) => {
    const tenants: Tenant[] = await withCore(io, o, (core) => core.identity.listTenants());
    if (formatOf(o) === 'json') io.stdout(`${JSON.stringify({ tenants }, null, 2)}\n`);
    else io.stdout(tenants.map((t) => `${t.id.padEnd(24)} ${t.status.padEnd(10)} ${t.name}`).join('\n') + '\n');
    done(EXIT.ok);
  });
  return tenant;
}

function localActorCredential(tenantId: string): Credential {
  return local(tenantId);
}

/** `warden login`: check a token against a server and keep it. */
export function registerLogin(program: Command, io: CliIo, done: (code: number) => void): Command {
  return program
    .command('login')
    .description('check a token against a server and keep it for WARDEN_URL (in your config directory, mode 0600)')
    .option('--url <url>', 'the server (default: WARDEN_URL)')
    .option('--token <token>', 'the token (default: WARDEN_TOKEN; avoid passing secrets as arguments)')
    .action(async (o: { url?: string; token?: string }) => {
      const raw = o.url ?? io.env.WARDEN_URL;
      if (!raw) throw new CliError('no server: pass --url or set WARDEN_URL');
      const url = normalizeUrl(raw);
      const secret = o.token ?? io.env.WARDEN_TOKEN;
      if (!secret) throw new CliError('no token: set WARDEN_TOKEN (or pass --token)');
      const me = await remoteClient(url, secret).request<{ tenantId: string; name: string; grants: { role: string; scope?: string }[] }>('GET', '/api/v1/whoami');
      const file = await storeToken(io.env, url, secret);
      io.stdout(`logged in to ${url} as ${printable(me.name)} (tenant ${me.tenantId}: ${me.grants.map((g) => `${g.role}${g.scope ? ` at ${g.scope}` : ''}`).join(', ')}); token kept in ${file}\n`);
      done(EXIT.ok);
    });
}

/** `warden logout`: forget the token kept for a server. */
export function registerLogout(program: Command, io: CliIo, done: (code: number) => void): Command {
  return program
    .command('logout')
    .description('forget the token kept for a server')
    .option('--url <url>', 'the server (default: WARDEN_URL)')
    .action(async (o: { url?: string }) => {
      const raw = o.url ?? io.env.WARDEN_URL;
      if (!raw) throw new CliError('no server: pass --url or set WARDEN_URL');
      await storeToken(io.env, normalizeUrl(raw), undefined);
      io.stdout(`logged out of ${normalizeUrl(raw)}\n`);
      done(EXIT.ok);
    });
}

/** `warden whoami`: the identity the server sees. */
export function registerWhoami(program: Command, io: CliIo, done: (code: number) => void): Command {
  return withFormatOption(program.command('whoami').description('show the identity WARDEN_URL sees for your token')).action(async (o: { format?: string; json?: boolean }) => {
    const r = await remoteOf(io);
    if (!r) throw new CliError('whoami asks a server: set WARDEN_URL (and WARDEN_TOKEN or `warden login`)');
    const me = await r.request<{ tenantId: string; name: string; method: string; grants: { role: string; scope?: string }[] }>('GET', '/api/v1/whoami');
    if (formatOf(o) === 'json') io.stdout(`${JSON.stringify(me, null, 2)}\n`);
    else io.stdout(`${printable(me.name)} (${me.method}) in tenant ${me.tenantId}: ${me.grants.map((g) => `${g.role}${g.scope ? ` at ${g.scope}` : ''}`).join(', ')}\n`);
    done(EXIT.ok);
  });
}
