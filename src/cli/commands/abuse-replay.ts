import { resolve } from 'node:path';
import type { Command } from 'commander';
import { readPolicyFiles } from '../../config/policy-files.js';
import type { Core } from '../../main/core.js';
import { CliError, EXIT, printableLines, type CliIo } from '../io.js';
import { jsonText } from '../json-output.js';
import { localCredential } from '../local-actor.js';
import { DEFAULT_TENANT, type DirectFlags } from '../remote-or-direct.js';
import { instant, replayWithProgress, samplesOf } from '../replay-progress.js';
import { withStoreOptions } from '../with-core.js';
import { formatOf, withFormatOption } from './format.js';

type AbuseReplayRequest = Parameters<Core['abuse']['replay']>[1];
type AbuseReplayAnswer = Awaited<ReturnType<Core['abuse']['replay']>>;

type Flags = DirectFlags & { format?: string; json?: boolean; rules?: string[]; defaultPack?: boolean; from?: string; to?: string; scope?: string; samples?: string };

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function human(r: AbuseReplayAnswer): string {
  const width = Math.max(0, ...r.rules.map((x) => x.rule.length));
  const lines: string[] = [];
  for (const x of r.rules) {
    const failed = x.failures > 0 ? `, ${plural(x.failures, 'evaluation')} failed` : '';
    lines.push(`${x.rule.padEnd(width)}  ${String(x.hits).padStart(6)} ${x.hits === 1 ? 'hit ' : 'hits'}  ${String(x.entities).padStart(5)} ${x.entities === 1 ? 'entity  ' : 'entities'}  ${x.mode}${x.synchronous ? ', synchronous' : ''}  ${x.category}${failed}`);
    for (const s of x.samples) {
      const features = Object.entries(s.features).map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(2)}`).join(' ');
      lines.push(`    ${s.time}  ${s.scope}  ${s.entity}  event ${s.eventId}${features ? `  ${features}` : ''}`);
    }
  }
  lines.push(`${plural(r.read, 'event')} read (of ${r.total}) in ${(r.durationMs / 1000).toFixed(1)} s (${r.eventsPerSecond} per second)`);
  if (r.withoutArgs > 0) {
    lines.push(`${plural(r.withoutArgs, 'decision')} judged by synchronous rules without their arguments (not captured, or not readable by you; start the server with --audit-capture args to keep them): a rule that reads \`args\` may have missed hits there`);
  }
  return `${lines.join('\n')}\n`;
}

/** `warden abuse replay`: what draft abuse rules would have hit over recorded events. */
export function registerAbuseReplay(abuse: Command, io: CliIo, done: (code: number) => void): void {
  withFormatOption(withStoreOptions(abuse.command('replay')))
    .description('run draft abuse rules over recorded events and report what each would have hit (nothing is applied)')
    .option('--rules <path...>', 'rule files, or directories of *.yaml rule files')
    .option('--default-pack', 'run the default pack beside the files')
    .option('--from <time>', 'the start of the range (RFC 3339)')
    .option('--to <time>', 'the end of the range, exclusive (RFC 3339)')
    .option('--scope <path>', 'only events at this scope and below')
    .option('--samples <n>', 'hits shown per rule', '5')
    .option('--tenant <id>', `the tenant (database access only; through a server the token names it) [${DEFAULT_TENANT}]`)
    .action(async (o: Flags) => {
      const format = formatOf(o);
      const paths = o.rules ?? [];
      if (paths.length === 0 && !o.defaultPack) throw new CliError('name the rules: --rules FILE_OR_DIR..., or --default-pack', EXIT.usage);
      const files = paths.length > 0 ? await readPolicyFiles(paths.map((p) => resolve(io.cwd, p)), io.cwd) : { sources: [] };
      if (paths.length > 0 && files.sources.length === 0) throw new CliError(`no *.yaml rule files under ${paths.map((p) => `\`${p}\``).join(', ')}`, EXIT.usage);
      const request: AbuseReplayRequest = {
        sources: files.sources.map((s) => ({ file: s.file, text: s.text })),
        defaultPack: o.defaultPack ?? false,
        from: instant('--from', o.from),
        to: instant('--to', o.to),
        scope: o.scope,
        samples: samplesOf(o.samples),
      };
      const report = await replayWithProgress(io, o, {
        path: '/api/v1/abuse/replay',
        body: request,
        noun: 'events',
        direct: (core, progress) => core.abuse.replay(localCredential(o.tenant ?? DEFAULT_TENANT), request, progress),
      });
      io.stdout(format === 'json' ? jsonText(report) : printableLines(human(report)));
      done(EXIT.ok);
    });
}
