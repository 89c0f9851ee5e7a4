import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { readPolicyFiles } from '../../config/policy-files.js';
import { policyNameOfFile, type ReplayReport, type ReplayRequest } from '../../policies/index.js';
import { CliError, EXIT, printableLines, type CliIo } from '../io.js';
import { jsonText } from '../json-output.js';
import { localCredential } from '../local-actor.js';
import { DEFAULT_TENANT, type DirectFlags } from '../remote-or-direct.js';
import { instant, replayWithProgress, samplesOf } from '../replay-progress.js';
import { withStoreOptions } from '../with-core.js';
import { formatOf, withFormatOption } from './format.js';

type Flags = DirectFlags & { format?: string; json?: boolean; draft?: string[]; from?: string; to?: string; scope?: string; samples?: string };

const DRAFT = /^([a-z0-9][a-z0-9-]{0,127})@([0-9]{1,9})$/;

function human(r: ReplayReport & { total: number }): string {
  const lines = [
    `${r.read} recorded decisions read (of ${r.total}), ${r.evaluated} decided again in ${(r.durationMs / 1000).toFixed(1)} s (${r.eventsPerSecond} per second)`,
    `${r.changed} would change${r.changed > 0 ? ':' : ''}`,
  ];
  for (const c of r.changes) {
    lines.push(`  ${String(c.count).padStart(7)}  ${c.from} → ${c.to}  by ${c.rule}`);
    for (const s of c.samples) lines.push(`           ${s.time}  ${s.scope}  ${s.target}  (${s.from.reasons.join(', ') || '-'} → ${s.to.reasons.join(', ') || '-'})  event ${s.eventId}`);
  }
  const n = r.notReplayable;
  const skipped = n.argsNotCaptured + n.registryRefusal + n.unreadable;
  if (skipped > 0) {
    lines.push(`${skipped} could not be decided again:`);
    if (n.argsNotCaptured > 0) lines.push(`  ${n.argsNotCaptured} read arguments that were not captured (a rule that could match them reads \`args\`; start the server with --audit-capture args to keep them)`);
    if (n.registryRefusal > 0) lines.push(`  ${n.registryRefusal} were refused by the registry (a suspended agent, a blocked tool), not by a policy`);
    if (n.unreadable > 0) lines.push(`  ${n.unreadable} do not hold a whole action`);
  }
  if (r.driftFromRecorded > 0) lines.push(`${r.driftFromRecorded} are decided otherwise today than when they were recorded, drafts aside (policies or registry facts changed since)`);
  return `${lines.join('\n')}\n`;
}

/** `warden policy replay`: what drafts would have done to recorded traffic. */
export function registerPolicyReplay(policy: Command, io: CliIo, done: (code: number) => void): void {
  withFormatOption(withStoreOptions(policy.command('replay')))
    .description('decide recorded decisions again with drafts in place (a stored version NAME@N, or the files of a directory) and report what would change')
    .argument('[dir]', 'a directory of policy files, each replacing the managed policy named after its file')
    .option('--draft <name@version...>', 'a stored version to put in place of the active one (repeatable)')
    .option('--from <time>', 'the start of the range (RFC 3339)')
    .option('--to <time>', 'the end of the range, exclusive (RFC 3339)')
    .option('--scope <path>', 'only decisions at this scope and below')
    .option('--samples <n>', 'decisions shown per group of changes', '5')
    .option('--policies <path...>', 'the policy files the server serves beside the managed policies (database access only): the baseline is decided with them')
    .option('--tenant <id>', `the tenant (database access only; through a server the token names it) [${DEFAULT_TENANT}]`)
    .action(async (dir: string | undefined, o: Flags) => {
      const format = formatOf(o);
      const drafts: ReplayRequest['drafts'] = [];
      for (const d of o.draft ?? []) {
        const m = DRAFT.exec(d);
        if (!m) throw new CliError(`--draft takes NAME@VERSION (such as acme@3), not \`${d}\``, EXIT.usage);
        drafts.push({ name: m[1]!, version: Number(m[2]) });
      }
      if (dir !== undefined) {
        const files = await readPolicyFiles([dir], io.cwd);
        for (const src of files.sources) {
          drafts.push({ name: policyNameOfFile(src.file), source: await readFile(resolve(io.cwd, src.file), 'utf8') });
        }
      }
      if (drafts.length === 0) throw new CliError('name the drafts: --draft NAME@VERSION, or a directory of policy files', EXIT.usage);
      const samples = samplesOf(o.samples);
      const request: ReplayRequest = { drafts, from: instant('--from', o.from), to: instant('--to', o.to), scope: o.scope, samples };

      const report = await replayWithProgress(io, o, {
        path: '/api/v1/policies/replay',
        body: request,
        noun: 'decisions',
        direct: (core, progress) => core.managedPolicies.replay(localCredential(o.tenant ?? DEFAULT_TENANT), request, progress),
      });
      io.stdout(format === 'json' ? jsonText(report) : printableLines(human(report)));
      done(EXIT.ok);
    });
}
