import type { Command } from 'commander';
import { CASE_OUTCOMES, CASE_STATUSES, type Case, type CaseOutcome, type CaseStatus } from '../../domain/index.js';
import type { Core } from '../../main/core.js';
import { CliError, EXIT, printableLines, type CliIo } from '../io.js';
import { jsonText } from '../json-output.js';
import type { Remote } from '../remote.js';
import { DEFAULT_TENANT, remoteOrDirect, seg, type DirectFlags } from '../remote-or-direct.js';
import { withStoreOptions } from '../with-core.js';
import { directCredential } from './approvals.js';
import { formatOf, withFormatOption } from './format.js';

type Flags = DirectFlags & { format?: string; json?: boolean; as?: string };
type Filter = { queue?: string | undefined; status?: CaseStatus | undefined; rule?: string | undefined; overdue?: boolean | undefined; after?: string | undefined; limit: number };
type Decision = { outcome: CaseOutcome; note?: string | undefined; queue?: string | undefined };

/** What the commands need of the review queue, through a server or on the database. */
interface CaseClient {
  list(f: Filter): Promise<{ cases: Case[]; next?: string | undefined }>;
  get(id: string): Promise<Case>;
  claim(id: string): Promise<Case>;
  release(id: string): Promise<Case>;
  decide(id: string, d: Decision): Promise<Case>;
  note(id: string, text: string): Promise<Case>;
}

function remoteClient(r: Remote): CaseClient {
  const at = (id: string, what = '') => `/api/v1/abuse/cases/${seg(id)}${what}`;
  return {
    list(f) {
      const q = new URLSearchParams({ ...(f.queue ? { queue: f.queue } : {}), ...(f.status ? { status: f.status } : {}), ...(f.rule ? { rule: f.rule } : {}), ...(f.overdue ? { overdue: 'true' } : {}), ...(f.after ? { after: f.after } : {}), limit: String(f.limit) });
      return r.request('GET', `/api/v1/abuse/cases?${q.toString()}`);
    },
    get: (id) => r.request('GET', at(id)),
    claim: (id) => r.request('POST', at(id, '/claim'), {}),
    release: (id) => r.request('POST', at(id, '/release'), {}),
    decide: (id, d) => r.request('POST', at(id, '/decide'), { outcome: d.outcome, ...(d.note ? { note: d.note } : {}), ...(d.queue ? { queue: d.queue } : {}) }),
    note: (id, text) => r.request('POST', at(id, '/notes'), { text }),
  };
}

function directClient(core: Core, c: Parameters<Core['cases']['get']>[0]): CaseClient {
  return {
    list: (f) => core.cases.list(c, f),
    get: (id) => core.cases.get(c, id),
    claim: (id) => core.cases.claim(c, id),
    release: (id) => core.cases.release(c, id),
    decide: (id, d) => core.cases.decide(c, id, d),
    note: (id, text) => core.cases.note(c, id, text),
  };
}

function either<T>(io: CliIo, flags: Flags, fn: (client: CaseClient) => Promise<T>): Promise<T> {
  return remoteOrDirect(
    io,
    flags,
    (r) => {
      if (flags.as !== undefined) throw new CliError('`--as` applies to the database directly; WARDEN_URL is set, so your token is the analyst', EXIT.usage);
      return fn(remoteClient(r));
    },
    async (core) => fn(directClient(core, await directCredential(core, flags))),
  );
}

function listText(list: readonly Case[], next: string | undefined): string {
  if (list.length === 0) return 'no cases\n';
  const head = `${'ID'.padEnd(37)} ${'QUEUE'.padEnd(16)} ${'STATUS'.padEnd(7)} ${'SEV'.padEnd(8)} ${'SUBJECT'.padEnd(28)} ${'RULE'.padEnd(20)} ${'CLAIMED BY'.padEnd(16)} DUE`;
  const rows = list.map((k) =>
    [k.id.padEnd(37), k.queue.slice(0, 16).padEnd(16), k.status.padEnd(7), k.severity.padEnd(8), `${k.subject.kind}:${k.subject.id}`.slice(0, 28).padEnd(28), (k.source.kind === 'rule' ? k.source.rule : `analyst ${k.source.principal}`).slice(0, 20).padEnd(20), (k.claimedBy ?? '-').slice(0, 16).padEnd(16), k.dueAt].join(' '),
  );
  return `${head}\n${rows.join('\n')}\n${next ? `more: --after ${next}\n` : ''}`;
}

/** One case as `show` prints it: what it is about, what confirming applies, its claim, decision and notes. */
export function caseText(k: Case): string {
  const line = (key: string, v: string) => `  ${key.padEnd(11)} ${v}`;
  const out = [`case ${k.id} (${k.status}${k.outcome ? `, ${k.outcome}` : ''})`, ''];
  out.push(line('queue', k.queue), line('category', k.category), line('severity', k.severity), line('scope', k.scope), line('subject', `${k.subject.kind} ${k.subject.id}`));
  out.push(line('summary', k.summary), line('source', k.source.kind === 'rule' ? `rule ${k.source.rule}` : `analyst ${k.source.principal}`));
  const f = k.evidence;
  out.push(line('evidence', `${f.eventIds.length} event(s), ${f.findings.length} finding(s)${f.labels.length ? `, labels ${f.labels.join(', ')}` : ''}`));
  for (const [name, value] of Object.entries(f.features)) out.push(line('', `${name} = ${value}`));
  out.push(line('proposed', k.proposed.length ? k.proposed.map((p) => p.kind).join(', ') : 'nothing (confirming only closes it)'));
  out.push(line('applied', k.mitigations.length ? k.mitigations.join(', ') : '-'));
  out.push(line('claimed by', k.claimedBy ? `${k.claimedBy} at ${k.claimedAt ?? '?'}` : '-'));
  if (k.decidedBy) out.push(line('decided', `${k.outcome ?? '?'} by ${k.decidedBy} at ${k.decidedAt ?? '?'}`));
  out.push(line('due', k.dueAt), line('created', k.createdAt));
  if (k.notes.length === 0) out.push(line('notes', 'none'));
  else k.notes.forEach((n, i) => out.push(line(i === 0 ? 'notes' : '', `${n.by} at ${n.at}: ${n.text}`)));
  return `${out.join('\n')}\n`;
}

function oneOf<T extends string>(what: string, all: readonly T[], text: string | undefined): T | undefined {
  if (text === undefined) return undefined;
  if (!(all as readonly string[]).includes(text)) throw new CliError(`unknown ${what} \`${text}\`; use ${all.join(', ')}`);
  return text as T;
}

function idOf(text: string): string {
  if (!/^case_[0-9a-f]{32}$/.test(text)) throw new CliError(`\`${text}\` is not a case id (\`case_\` and 32 hex digits); \`warden cases list\` shows them`);
  return text;
}

/** `warden cases list|show|claim|release|decide|note`: the abuse review queue, through WARDEN_URL or on the database. */
export function registerCases(program: Command, io: CliIo, done: (code: number) => void): Command {
  const cases = program.command('cases').description('list, show, claim, release, decide and annotate abuse cases');
  const opts = (cmd: Command) =>
    withFormatOption(withStoreOptions(cmd))
      .option('--tenant <id>', `the tenant (database access only; through a server the token names it) [${DEFAULT_TENANT}]`)
      .option('--as <principal>', 'database access only: the analyst who acts (their roles come from their live API tokens); default: the local operator');
  const print = (o: Flags, k: Case, human: string) => {
    io.stdout(formatOf(o) === 'json' ? jsonText(k) : printableLines(human));
    done(EXIT.ok);
  };

  opts(
    cases
      .command('list')
      .description('cases you may see, newest first')
      .option('--queue <name>', 'one queue')
      .option('--status <status>', CASE_STATUSES.join(', '))
      .option('--rule <name>', "one rule's cases")
      .option('--overdue', 'only cases not closed and past their due time')
      .option('--after <id>', 'the page after this case id')
      .option('--limit <n>', 'at most this many [50]'),
  ).action(async (o: Flags & { queue?: string; status?: string; rule?: string; overdue?: boolean; after?: string; limit?: string }) => {
    const format = formatOf(o);
    const limit = o.limit === undefined ? 50 : Number(o.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new CliError('`--limit` takes a whole number from 1 to 500');
    const page = await either(io, o, (c) => c.list({ queue: o.queue, status: oneOf('status', CASE_STATUSES, o.status), rule: o.rule, overdue: o.overdue, after: o.after === undefined ? undefined : idOf(o.after), limit }));
    io.stdout(format === 'json' ? jsonText(page) : printableLines(listText(page.cases, page.next)));
    done(EXIT.ok);
  });

  opts(cases.command('show').description('one case: evidence, proposals, claim, decision and notes').argument('<id>', 'the case id (case_…)')).action(async (id: string, o: Flags) => {
    formatOf(o);
    const k = await either(io, o, (c) => c.get(idOf(id)));
    print(o, k, caseText(k));
  });

  for (const verb of ['claim', 'release'] as const) {
    opts(cases.command(verb).description(verb === 'claim' ? 'claim an open case: nobody else may decide it while you hold it' : 'release your claim (an owner or admin releases anyone\'s)').argument('<id>', 'the case id (case_…)')).action(
      async (id: string, o: Flags) => {
        formatOf(o);
        const k = await either(io, o, (c) => c[verb](idOf(id)));
        print(o, k, verb === 'claim' ? `claimed ${k.id} (queue ${k.queue}, due ${k.dueAt})\n` : `released ${k.id}: open in queue ${k.queue}\n`);
      },
    );
  }

  opts(
    cases
      .command('decide')
      .description('decide a case you have claimed: confirmed applies what it proposes, false_positive undoes what its rule applied, escalated moves it to another queue')
      .argument('<id>', 'the case id (case_…)')
      .argument('<outcome>', CASE_OUTCOMES.join(', '))
      .option('--note <text>', 'why (kept on the case and in the audit log)')
      .option('--queue <name>', 'escalated only: the queue to send it to'),
  ).action(async (id: string, outcome: string, o: Flags & { note?: string; queue?: string }) => {
    formatOf(o);
    const decided = oneOf('outcome', CASE_OUTCOMES, outcome)!;
    if (o.queue !== undefined && decided !== 'escalated') throw new CliError('`--queue` applies to `escalated` only');
    const k = await either(io, o, (c) => c.decide(idOf(id), { outcome: decided, note: o.note, queue: o.queue }));
    print(o, k, decided === 'escalated' ? `escalated ${k.id} to queue ${k.queue}\n` : `${decided === 'confirmed' ? 'confirmed' : 'false positive:'} ${k.id}${k.mitigations.length ? ` (mitigations ${k.mitigations.join(', ')})` : ''}\n`);
  });

  opts(cases.command('note').description('add a note to a case').argument('<id>', 'the case id (case_…)').argument('<text>', 'the note')).action(async (id: string, text: string, o: Flags) => {
    formatOf(o);
    const k = await either(io, o, (c) => c.note(idOf(id), text));
    print(o, k, `noted on ${k.id} (${k.notes.length} note${k.notes.length === 1 ? '' : 's'})\n`);
  });
  return cases;
}
