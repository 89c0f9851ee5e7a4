import type { Command } from 'commander';
import { CONNOTATIONS, ENTITY_KINDS, type Connotation, type EntityKind, type EntityRef, type Label } from '../../domain/index.js';
import { personOf } from '../../identity/index.js';
import type { Core } from '../../main/core.js';
import { durationMs } from '../../policy/index.js';
import { CliError, EXIT, printableLines, type CliIo } from '../io.js';
import { jsonText } from '../json-output.js';
import { localActor, localCredential } from '../local-actor.js';
import type { Remote } from '../remote.js';
import { DEFAULT_TENANT, remoteOrDirect, seg, type DirectFlags } from '../remote-or-direct.js';
import { withStoreOptions } from '../with-core.js';
import { formatOf, withFormatOption } from './format.js';

type Flags = DirectFlags & { format?: string; json?: boolean };
type Filter = { kind?: EntityKind | undefined; entity?: string | undefined; name?: string | undefined };
type NewLabel = { entity: EntityRef; name: string; connotation: Connotation; reason: string; ttlMs?: number; expiresAt?: string };

/** What the commands need of labels, through a server or on the database. */
interface LabelClient {
  list(f: Filter): Promise<Label[]>;
  add(l: NewLabel): Promise<Label>;
  remove(entity: EntityRef, name: string): Promise<void>;
}

function remoteClient(r: Remote): LabelClient {
  return {
    async list(f) {
      const q = new URLSearchParams({ ...(f.kind ? { kind: f.kind } : {}), ...(f.entity ? { entity: f.entity } : {}), ...(f.name ? { name: f.name } : {}), limit: '500' });
      return (await r.request<{ labels: Label[] }>('GET', `/api/v1/abuse/labels?${q.toString()}`)).labels;
    },
    add: (l) => r.request('POST', '/api/v1/abuse/labels', l),
    async remove(entity, name) {
      await r.request('DELETE', `/api/v1/abuse/labels/${seg(entity.kind)}/${seg(entity.id)}/${seg(name)}`);
    },
  };
}

/** On the database the local operator acts: it holds the database, so every role. */
function directClient(core: Core, tenantId: string): LabelClient {
  const operator = localCredential(tenantId);
  return {
    list: (f) => core.labels.list(tenantId, { ...(f.kind && f.entity ? { entity: { kind: f.kind, id: f.entity } } : f.kind ? { kind: f.kind } : {}), ...(f.name ? { name: f.name } : {}), limit: 500 }),
    add: (l) => core.labels.add(tenantId, l, { kind: 'analyst', principal: personOf(operator) }, localActor()),
    remove: (entity, name) => core.labels.remove(tenantId, entity, name, localActor()),
  };
}

const either = <T>(io: CliIo, flags: Flags, fn: (client: LabelClient) => Promise<T>): Promise<T> =>
  remoteOrDirect(io, flags, (r) => fn(remoteClient(r)), (core) => fn(directClient(core, flags.tenant ?? DEFAULT_TENANT)));

function kindOf(text: string): EntityKind {
  if (!(ENTITY_KINDS as readonly string[]).includes(text)) throw new CliError(`unknown entity kind \`${text}\`; use ${ENTITY_KINDS.join(', ')}`);
  return text as EntityKind;
}

function listText(list: readonly Label[]): string {
  if (list.length === 0) return 'no labels\n';
  const head = `${'ENTITY'.padEnd(32)} ${'NAME'.padEnd(20)} ${'CONNOTATION'.padEnd(11)} ${'EXPIRES'.padEnd(24)} ${'SOURCE'.padEnd(24)} REASON`;
  const rows = list.map((l) =>
    [`${l.entity.kind}:${l.entity.id}`.slice(0, 32).padEnd(32), l.name.padEnd(20), l.connotation.padEnd(11), (l.expiresAt ?? 'never').padEnd(24), (l.source.kind === 'rule' ? `rule ${l.source.rule}` : l.source.principal).slice(0, 24).padEnd(24), l.reason].join(' '),
  );
  return `${head}\n${rows.join('\n')}\n`;
}

/** `warden labels list|add|remove`: labels on entities, through WARDEN_URL or on the database. */
export function registerLabels(program: Command, io: CliIo, done: (code: number) => void): Command {
  const labels = program.command('labels').description('list, add and remove labels on agents, principals, sessions and other entities');
  const opts = (cmd: Command) => withFormatOption(withStoreOptions(cmd)).option('--tenant <id>', `the tenant (database access only; through a server the token names it) [${DEFAULT_TENANT}]`);

  opts(labels.command('list').description('live labels, newest first').option('--kind <kind>', ENTITY_KINDS.join(', ')).option('--entity <id>', 'one entity (with --kind)').option('--name <name>', 'one label name')).action(
    async (o: Flags & { kind?: string; entity?: string; name?: string }) => {
      const format = formatOf(o);
      if (o.entity !== undefined && o.kind === undefined) throw new CliError('`--entity` needs `--kind`');
      const list = await either(io, o, (c) => c.list({ kind: o.kind === undefined ? undefined : kindOf(o.kind), entity: o.entity, name: o.name }));
      io.stdout(format === 'json' ? jsonText({ labels: list }) : printableLines(listText(list)));
      done(EXIT.ok);
    },
  );

  opts(
    labels
      .command('add')
      .description('put a label on an entity (replacing one of the same name)')
      .argument('<kind>', ENTITY_KINDS.join(', '))
      .argument('<entity>', 'the entity id')
      .argument('<name>', 'the label name (lower-case letters, digits, `_ . : -`)')
      .requiredOption('--reason <text>', 'why the label is there (required)')
      .option('--connotation <c>', `${CONNOTATIONS.join(', ')} [bad]`)
      .option('--ttl <duration>', 'lapses after this long (`30m`, `12h`, `7d`)')
      .option('--expires <time>', 'lapses at this RFC 3339 time'),
  ).action(async (kind: string, entity: string, name: string, o: Flags & { reason: string; connotation?: string; ttl?: string; expires?: string }) => {
    const format = formatOf(o);
    const connotation = o.connotation ?? 'bad';
    if (!(CONNOTATIONS as readonly string[]).includes(connotation)) throw new CliError(`unknown connotation \`${connotation}\`; use ${CONNOTATIONS.join(', ')}`);
    if (o.ttl !== undefined && o.expires !== undefined) throw new CliError('give `--ttl` or `--expires`, not both');
    const ttlMs = o.ttl === undefined ? undefined : durationMs(o.ttl);
    if (o.ttl !== undefined && ttlMs === undefined) throw new CliError(`\`${o.ttl}\` is not a duration; use e.g. \`30m\`, \`12h\`, \`7d\``);
    const l = await either(io, o, (c) =>
      c.add({ entity: { kind: kindOf(kind), id: entity }, name, connotation: connotation as Connotation, reason: o.reason, ...(ttlMs !== undefined ? { ttlMs } : {}), ...(o.expires !== undefined ? { expiresAt: o.expires } : {}) }),
    );
    io.stdout(format === 'json' ? jsonText(l) : printableLines(`labelled ${l.entity.kind} ${l.entity.id} \`${l.name}\` (${l.connotation}${l.expiresAt ? `, until ${l.expiresAt}` : ''})\n`));
    done(EXIT.ok);
  });

  opts(labels.command('remove').description('remove a live label').argument('<kind>', ENTITY_KINDS.join(', ')).argument('<entity>', 'the entity id').argument('<name>', 'the label name')).action(
    async (kind: string, entity: string, name: string, o: Flags) => {
      const format = formatOf(o);
      const ref = { kind: kindOf(kind), id: entity };
      await either(io, o, (c) => c.remove(ref, name));
      io.stdout(format === 'json' ? jsonText({ removed: { entity: ref, name } }) : printableLines(`removed \`${name}\` from ${ref.kind} ${ref.id}\n`));
      done(EXIT.ok);
    },
  );
  return labels;
}
