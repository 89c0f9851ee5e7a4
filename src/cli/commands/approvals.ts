import type { Command } from 'commander';
import { APPROVAL_STATUSES, approvalTarget, approversText, type ApprovalRequest, type ApprovalStatus } from '../../domain/index.js';
import type { Credential } from '../../identity/index.js';
import type { Core } from '../../main/core.js';
import { CliError, EXIT, printableLines, type CliIo } from '../io.js';
import { jsonText, sortedKeys } from '../json-output.js';
import { localCredential, localPersonCredential } from '../local-actor.js';
import type { Remote } from '../remote.js';
import { DEFAULT_TENANT, remoteOrDirect, seg, type DirectFlags } from '../remote-or-direct.js';
import { withStoreOptions } from '../with-core.js';
import { formatOf, withFormatOption } from './format.js';

type Flags = DirectFlags & { format?: string; json?: boolean; as?: string };
type Vote = 'approve' | 'deny';

/** What the commands need of approvals, through a server or on the database. */
interface ApprovalClient {
  list(filter: { status?: ApprovalStatus | undefined; mine: boolean }): Promise<ApprovalRequest[]>;
  get(id: string): Promise<ApprovalRequest>;
  answer(id: string, vote: Vote, comment: string | undefined): Promise<ApprovalRequest>;
}

function remoteClient(r: Remote): ApprovalClient {
  return {
    async list(filter) {
      const query = new URLSearchParams({ ...(filter.status ? { status: filter.status } : {}), ...(filter.mine ? { mine: 'true' } : {}), limit: '500' }).toString();
      return (await r.request<{ approvals: ApprovalRequest[] }>('GET', `/api/v1/approvals?${query}`)).approvals;
    },
    get: (id) => r.request('GET', `/api/v1/approvals/${seg(id)}`),
    answer: (id, vote, comment) => r.request('POST', `/api/v1/approvals/${seg(id)}/${vote}`, comment !== undefined ? { comment } : {}),
  };
}

/**
 * The credential a direct command acts with: the local operator, or with `--as` the named person
 * (their roles from their live tokens; see {@link localPersonCredential}).
 */
export async function directCredential(core: Core, flags: DirectFlags & { as?: string | undefined }): Promise<Credential> {
  const tenantId = flags.tenant ?? DEFAULT_TENANT;
  const operator = localCredential(tenantId);
  if (flags.as === undefined) return operator;
  const c = localPersonCredential(tenantId, flags.as, await core.identity.listTokens(operator), core.clock.now());
  if (c.grants.length === 0) {
    throw new CliError(`\`${flags.as}\` holds no live API token with a person role in tenant \`${tenantId}\`; on the database a person's roles are read from their tokens (a person known only through OIDC answers through WARDEN_URL)`, EXIT.usage);
  }
  return c;
}

function directClient(core: Core, c: Credential): ApprovalClient {
  return {
    list: (filter) => core.approvals.list(c, { status: filter.status, answerable: filter.mine, limit: 500 }),
    get: (id) => core.approvals.get(c, id),
    answer: (id, vote, comment) => core.approvals.answer(c, id, vote, comment),
  };
}

function either<T>(io: CliIo, flags: Flags, fn: (client: ApprovalClient) => Promise<T>): Promise<T> {
  return remoteOrDirect(
    io,
    flags,
    (r) => {
      // Through a server the token is the person; naming another one is not possible there.
      if (flags.as !== undefined) throw new CliError('`--as` applies to the database directly; WARDEN_URL is set, so your token is the person who answers', EXIT.usage);
      return fn(remoteClient(r));
    },
    async (core) => fn(directClient(core, await directCredential(core, flags))),
  );
}

const approvalsOf = (r: ApprovalRequest): number => r.votes.filter((v) => v.vote === 'approve').length;

function listText(list: readonly ApprovalRequest[]): string {
  if (list.length === 0) return 'no approval requests\n';
  const head = `${'ID'.padEnd(36)} ${'STATUS'.padEnd(9)} ${'TOOL'.padEnd(32)} ${'PRINCIPAL'.padEnd(16)} ${'AGENT'.padEnd(16)} ${'SCOPE'.padEnd(24)} VOTES EXPIRES`;
  const rows = list.map((r) => `${r.id.padEnd(36)} ${r.status.padEnd(9)} ${approvalTarget(r).slice(0, 32).padEnd(32)} ${(r.subject.principal ?? '-').slice(0, 16).padEnd(16)} ${(r.subject.agent ?? '-').slice(0, 16).padEnd(16)} ${r.subject.scope.slice(0, 24).padEnd(24)} ${`${approvalsOf(r)}/${r.policy.count}`.padEnd(5)} ${r.expiresAt}`);
  return `${head}\n${rows.join('\n')}\n`;
}

/** One request as `show` prints it: the subject field by field (what the digest covers), then who may answer and the answers. */
function showText(r: ApprovalRequest): string {
  const s = r.subject;
  const line = (k: string, v: string) => `  ${k.padEnd(11)} ${v}`;
  const out = [`approval request ${r.id} (${r.status})`, '', 'the call, exactly as the digest covers it:'];
  out.push(line('action', s.kind));
  if (s.tool) out.push(line('tool', `${s.tool.name} (server ${s.tool.server})`));
  if (s.resource) out.push(line('resource', `${s.resource.uri}${s.resource.server ? ` (server ${s.resource.server})` : ''}`));
  // The arguments in the digest's key order (RFC 8785), so what is read is what was hashed.
  const args = s.args === undefined ? ['(none)'] : JSON.stringify(sortedKeys(s.args), null, 2).split('\n');
  out.push(line('arguments', args[0]!), ...args.slice(1).map((a) => `${' '.repeat(14)}${a}`));
  out.push(line('principal', s.principal ?? '-'), line('agent', s.agent ?? '-'), line('scope', s.scope), line('session', s.session ?? '-'), line('release', s.policySetVersion), line('tenant', s.tenantId));
  out.push(line('digest', r.digest), '');
  out.push(line('answer by', approversText(r)));
  out.push(line('needs', `${r.policy.count} approval${r.policy.count === 1 ? '' : 's'}${r.policy.confirm ? ", and the principal's own confirmation" : ''}; ${approvalsOf(r)} so far`));
  if (r.policy.reauthMinutes !== undefined) out.push(line('sign-in', `an OIDC sign-in at most ${r.policy.reauthMinutes} minutes old`));
  out.push(line('rules', r.policy.rules.join(', ') || '-'));
  out.push(line('created', r.createdAt), line(r.status === 'approved' ? 'usable to' : 'expires', r.expiresAt));
  if (r.decidedAt) out.push(line('decided', r.decidedAt));
  if (r.votes.length === 0) out.push(line('answers', 'none yet'));
  else r.votes.forEach((v, i) => out.push(line(i === 0 ? 'answers' : '', `${v.vote} by ${v.principal} (${v.name}) at ${v.at}${v.comment ? `: ${v.comment}` : ''}`)));
  return `${out.join('\n')}\n`;
}

const isRemote = (io: CliIo): boolean => io.env.WARDEN_URL !== undefined && io.env.WARDEN_URL !== '';

function statusOf(text: string | undefined): ApprovalStatus | undefined {
  if (text === undefined) return undefined;
  if (!(APPROVAL_STATUSES as readonly string[]).includes(text)) throw new CliError(`unknown status \`${text}\`; use ${APPROVAL_STATUSES.join(', ')}`);
  return text as ApprovalStatus;
}

function idOf(text: string): string {
  if (!/^apr_[0-9a-f]{32}$/.test(text)) throw new CliError(`\`${text}\` is not an approval request id (\`apr_\` and 32 hex digits); \`warden approvals list\` shows them`);
  return text;
}

/** `warden approvals list|show|approve|deny`: approval requests, through WARDEN_URL or on the database. */
export function registerApprovals(program: Command, io: CliIo, done: (code: number) => void): Command {
  const approvals = program.command('approvals').description('list, show, approve and deny approval requests');
  const opts = (cmd: Command) =>
    withFormatOption(withStoreOptions(cmd))
      .option('--tenant <id>', `the tenant (database access only; through a server the token names it) [${DEFAULT_TENANT}]`)
      .option('--as <principal>', 'database access only: the person who answers (their roles come from their live API tokens); through a server your token is the person');

  opts(
    approvals
      .command('list')
      .description('pending requests you may answer now; --all: every request you may see')
      .option('--all', 'every request you may see, whoever may answer it, in every status (or --status)')
      .option('--status <status>', `${APPROVAL_STATUSES.join(', ')} (a status other than pending lists every request you may see in it)`),
  ).action(async (o: Flags & { all?: boolean; status?: string }) => {
    const format = formatOf(o);
    const status = statusOf(o.status) ?? (o.all ? undefined : 'pending');
    // On the database without --as nobody in particular answers: the operator sees every pending request.
    const someone = isRemote(io) || o.as !== undefined;
    const mine = !o.all && status === 'pending' && someone;
    const list = await either(io, o, (c) => c.list({ status, mine }));
    io.stdout(format === 'json' ? jsonText({ approvals: list }) : printableLines(listText(list)));
    done(EXIT.ok);
  });

  opts(approvals.command('show').description('one request: the call as its digest covers it, who may answer, the answers so far').argument('<id>', 'the request id (apr_…)')).action(async (id: string, o: Flags) => {
    const format = formatOf(o);
    const r = await either(io, o, (c) => c.get(idOf(id)));
    // Arguments, names and comments come from agents and other people: no terminal control reaches the screen.
    io.stdout(format === 'json' ? jsonText(r) : printableLines(showText(r)));
    done(EXIT.ok);
  });

  for (const vote of ['approve', 'deny'] as const) {
    opts(
      approvals
        .command(vote)
        .description(vote === 'approve' ? 'approve a pending request (never your own; one answer per person)' : 'deny a pending request: the held call is refused')
        .argument('<id>', 'the request id (apr_…)')
        .option('--comment <text>', 'why (kept with the answer and in the audit log)'),
    ).action(async (id: string, o: Flags & { comment?: string }) => {
      const format = formatOf(o);
      if (!isRemote(io) && o.as === undefined) {
        throw new CliError(`on the database, name the person who answers with \`--as <principal>\` (the local operator holds \`owner\`, and approval rules name their approvers); or set WARDEN_URL and answer with your own token`, EXIT.usage);
      }
      const r = await either(io, o, (c) => c.answer(idOf(id), vote, o.comment));
      if (format === 'json') io.stdout(jsonText(r));
      else io.stdout(printableLines(`${vote === 'approve' ? 'approved' : 'denied'} ${r.id}: now ${r.status} (${approvalsOf(r)}/${r.policy.count} approvals)\n`));
      done(EXIT.ok);
    });
  }
  return approvals;
}
